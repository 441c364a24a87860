import type { Aedes, Client, PublishPacket, Subscription } from 'aedes'
import { type Message, message } from '../messages'
import type { StoreData } from '../store/schema'
import { type RecordLogEntry, logReason } from './connectionLog'
import {
  type BoundTopicRule,
  type CompiledTopicRules,
  type TopicAccess,
  type TopicRuleSubject,
  bindTopicRules,
  compileTopicRules,
  topicAllowed,
  topicRulesIn,
} from './topicRules'
import type { ListenerKind } from './types'
import { RATE_WINDOW_MS, WindowedCounter } from './windowedCounter'

/** Topic denials logged per client per window, so a looping client cannot flush the log. */
const DENIALS_LOGGED_PER_CLIENT = 10

/** What the topic hooks read of a client's connection, and the rules they bind to it. */
export interface RuledConnection {
  listener: ListenerKind
  remoteAddress?: string
  /** Set once CONNECT is accepted: whose topic rules apply. */
  subject?: TopicRuleSubject
  boundRules?: BoundRules
}

/** The rule set a connection last checked against, bound to its device, and its decisions so far. */
interface BoundRules {
  rules: CompiledTopicRules
  bound: BoundTopicRule[]
  /** Decisions by topic (or filter) under these rules: a device uses a handful of topics. */
  decisions: Record<TopicAccess, Map<string, boolean>>
}

/** Decisions one connection keeps per access; past this the cache starts again (a client walking topics). */
const DECISIONS_CACHED = 256

/** What the topic hooks need from the broker. */
export interface TopicAuthorizationSetup {
  /** The connection aedes handed over for `client`, if the broker opened one. */
  findConnection(client: Client): RuledConnection | undefined
  /** The same, for a client that must have one (it throws otherwise). */
  connectionOf(client: Client): RuledConnection
  record: RecordLogEntry
}

export interface TopicAuthorization {
  /** Takes the rules of a registry change; the next publish, subscription or delivery obeys them. */
  follow(data: StoreData): void
}

/** The part of aedes's persistence that keeps a persistent session's subscriptions. */
interface SubscriptionStore {
  addSubscriptions(client: Client, subscriptions: Subscription[]): Promise<void>
  removeSubscriptions(client: Client, topics: string[]): Promise<void>
}

/** aedes.publish as aedes calls it internally: with the publishing client (or null) first. */
type AedesPublish = (packet: PublishPacket, client: Client | null | ((error?: Error) => void), done?: (error?: Error) => void) => void

// Rules damaged by a hand edit of the index deny everything rather than stop the broker.
function rulesIn(data: StoreData): CompiledTopicRules {
  try {
    return compileTopicRules(topicRulesIn(data))
  } catch {
    return compileTopicRules([])
  }
}

/** Logs topic denials: once per client and topic per window, and at most so many per client. */
class DenialLog {
  private readonly denialsByTopic = new WindowedCounter(RATE_WINDOW_MS)
  private readonly denialsByClient = new WindowedCounter(RATE_WINDOW_MS)

  constructor(private readonly record: RecordLogEntry) {}

  /** `denial` names what was denied (`publish to "…"`): one entry per client and denial per window. */
  add(connection: RuledConnection, denial: Message): void {
    const clientId = connection.subject?.clientId ?? ''
    if (this.denialsByTopic.hit(`${clientId}\u0000${denial.key}\u0000${String(denial.params?.topic)}`) > 1) return
    const count = this.denialsByClient.hit(clientId)
    if (count > DENIALS_LOGGED_PER_CLIENT + 1) return
    this.record({
      listener: connection.listener,
      clientId,
      username: connection.subject?.username,
      remoteAddress: connection.remoteAddress,
      result: 'denied',
      ...logReason(count > DENIALS_LOGGED_PER_CLIENT ? message('refusal.tooManyDenials', { max: DENIALS_LOGGED_PER_CLIENT }) : denial),
    })
  }
}

/**
 * A refused publish is acknowledged as usual and dropped, as mosquitto does: an error here
 * would close the connection, and a device with one wrong topic would reconnect in a loop.
 * aedes has no "drop" answer, so the packet is marked and the broker's publish skips it: this
 * wraps aedes.publish and returns the set to mark denied packets in.
 */
function skipDeniedPublishes(aedes: Aedes): WeakSet<object> {
  const deniedPublishes = new WeakSet<object>()
  const publishThroughAedes = (aedes.publish as unknown as AedesPublish).bind(aedes)
  const publishUnlessDenied: AedesPublish = (packet, client, done) => {
    if (!deniedPublishes.has(packet)) return publishThroughAedes(packet, client, done)
    const callback = typeof client === 'function' ? client : done
    if (callback) process.nextTick(callback)
  }
  Object.assign(aedes, { publish: publishUnlessDenied })
  return deniedPublishes
}

/**
 * aedes persists every filter of a persistent session's SUBSCRIBE once one of them is allowed,
 * refused ones included, and a stored `#` would queue every QoS 1 message for that session:
 * this wraps the persistence to store the allowed filters only, and returns it.
 */
function storeAllowedSubscriptionsOnly(aedes: Aedes, allowed: (client: Client, topic: string) => boolean): SubscriptionStore {
  const persistence = (aedes as unknown as { persistence: SubscriptionStore }).persistence
  const storeSubscriptions = persistence.addSubscriptions.bind(persistence)
  persistence.addSubscriptions = (client, subscriptions) =>
    storeSubscriptions(
      client,
      subscriptions.filter((subscription) => allowed(client, subscription.topic)),
    )
  return persistence
}

/**
 * Holds every publish, subscription and delivery to the folder's topic rules, bound to the
 * connected device's client id and username. Starts with the rules in `data`.
 */
export function enforceTopicRules(aedes: Aedes, data: StoreData, setup: TopicAuthorizationSetup): TopicAuthorization {
  const { findConnection, connectionOf } = setup
  /** Compiled here, once per rule set; each connection binds them to its device once per set. */
  let rules = rulesIn(data)
  /** The saved rules `rules` was made from, as JSON: each index parse makes new objects. */
  let savedRules = JSON.stringify(data.broker?.topicRules ?? null)
  const allowedFor = (connection: RuledConnection, access: TopicAccess, topic: string): boolean => {
    if (!connection.subject) return false
    let boundRules = connection.boundRules
    if (boundRules?.rules !== rules) {
      boundRules = { rules, bound: bindTopicRules(rules, connection.subject), decisions: { publish: new Map(), subscribe: new Map() } }
      connection.boundRules = boundRules
    }
    // Every publish and every delivery asks: the rules are matched once per topic, not per message.
    const decisions = boundRules.decisions[access]
    let allowed = decisions.get(topic)
    if (allowed === undefined) {
      allowed = topicAllowed(boundRules.bound, access, topic)
      if (decisions.size >= DECISIONS_CACHED) decisions.clear()
      decisions.set(topic, allowed)
    }
    return allowed
  }
  const denials = new DenialLog(setup.record)

  const deniedPublishes = skipDeniedPublishes(aedes)
  aedes.authorizePublish = (client, packet, callback) => {
    const connection = client ? findConnection(client) : undefined
    // $SYS/+/new/clients and friends drive aedes itself: never from a device.
    const reserved = packet.topic.startsWith('$SYS/')
    if (connection && !reserved && allowedFor(connection, 'publish', packet.topic)) return callback(null)
    deniedPublishes.add(packet)
    if (connection) {
      const isWill = (client as Client & { will?: unknown }).will === packet
      const { topic } = packet
      const denial = isWill
        ? message(reserved ? 'refusal.willReserved' : 'refusal.willDenied', { topic })
        : message(reserved ? 'refusal.publishReserved' : 'refusal.publishDenied', { topic })
      denials.add(connection, denial)
    }
    callback(null)
  }

  const persistence = storeAllowedSubscriptionsOnly(aedes, (client, topic) => allowedFor(connectionOf(client), 'subscribe', topic))
  // A refused filter is granted 128 (failure) in SUBACK; the others in the packet still apply.
  aedes.authorizeSubscribe = (client, subscription, callback) => {
    const connection = connectionOf(client)
    if (allowedFor(connection, 'subscribe', subscription.topic)) return callback(null, subscription)
    denials.add(connection, message('refusal.subscribeDenied', { topic: subscription.topic }))
    // Stored under earlier rules, it would keep queueing messages for the session.
    if (!client.clean) persistence.removeSubscriptions(client, [subscription.topic]).catch(() => undefined)
    callback(null, null)
  }
  // Checked again per message: subscriptions made under older rules, a denying rule that only
  // overlaps an allowed filter, and queued messages of a persistent session obey the rules now.
  aedes.authorizeForward = (client, packet) => (allowedFor(connectionOf(client), 'subscribe', packet.topic) ? packet : null)

  return {
    follow: (current) => {
      // Most registry changes (a device, a certificate) leave the rules as they were: keep the
      // same compiled set then, so no connection has to bind its rules again.
      const saved = JSON.stringify(current.broker?.topicRules ?? null)
      if (saved === savedRules) return
      savedRules = saved
      rules = rulesIn(current)
    },
  }
}
