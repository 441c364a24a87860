import { once } from 'node:events'
import { type Server, type Socket, createServer as createNetServer, isIPv6 } from 'node:net'
import { type Server as TlsServer, type TLSSocket, createServer as createTlsServer } from 'node:tls'
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes'
import { watchRegistry } from '../registry/watchRegistry'
import type { BrokerServerCertificateRecord, DeviceRecord, StoreData, TopicRule } from '../store/schema'
import { DEFAULT_BROKER_SETTINGS } from './settings'
import { type ConnectAttempt, decideConnection } from './authentication'
import { ConnectionLog } from './connectionLog'
import { MqttFrameGuard } from './frameGuard'
import { type BoundTopicRule, type TopicAccess, type TopicRuleSubject, bindTopicRules, topicAllowed, topicRulesIn } from './topicRules'
import { WindowedCounter } from './windowedCounter'
import type { BrokerStatus, ConnectionLogEntry, ListenerKind, ListenerState, SessionInfo } from './types'
import { clientEndpoints } from './endpoints'
import { serverCertificateView } from '../registry/views'

export type { ListenerState, SessionInfo }
import type { ServerCertificateMaterial } from './serverCertificate'

/** How often the broker looks for registry changes (a stat of the index): well inside 1 s. */
const REGISTRY_POLL_MS = 200
/** A client gets this long for its TLS handshake and then its CONNECT before it is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000
const CONNECT_TIMEOUT_MS = 10_000
/** Before CONNECT is accepted a packet may be this big: a CONNECT with a will message fits. */
const PRE_CONNECT_MAX_PACKET_BYTES = 65_536
/** The window of the per-address connection rate, and of log coalescing. */
const RATE_WINDOW_MS = 10_000
/** Topic denials logged per client per window, so a looping client cannot flush the log. */
const DENIALS_LOGGED_PER_CLIENT = 10

/** What the broker needs from the core: the registry as it is now, and its TLS material. */
export interface BrokerRegistry {
  dataDir: string
  snapshot(): StoreData
  rootCertificatePem(): Promise<string>
  ensureBrokerServerCertificate(extraNames: string[]): Promise<ServerCertificateMaterial>
  /** Opens the vault, so device keys can be checked on each CONNECT without waiting. */
  unlock(): Promise<void>
  deviceKeyOf(device: DeviceRecord): string
}

export interface BrokerOptions {
  host?: string
  oneWayPort?: number
  mutualPort?: number
  extraNames?: string[]
  /** How long a client may take over its TLS handshake, and then its CONNECT (default 10 s each). */
  handshakeTimeoutMs?: number
  connectTimeoutMs?: number
  /** Largest packet after CONNECT, fixed header included (default 256 KiB). */
  maxPacketBytes?: number
  /** Open connections over both listeners; more are refused at TCP accept (default 1000). */
  maxConnections?: number
  /** Connections one address may open per 10 s; more are refused at TCP accept (default 200). */
  connectRatePerAddress?: number
}

export interface RunningBroker {
  host: string
  oneWay: ListenerState
  mutual: ListenerState
  serverCertificate: BrokerServerCertificateRecord
  log: ConnectionLog
  sessions(): SessionInfo[]
  /** Everything a front door shows: listeners, sessions, server certificate, client endpoints. */
  status(): BrokerStatus
  /** Called when sessions come and go (the desktop app's broker process forwards it). */
  onSessionsChange(listener: () => void): () => void
  close(): Promise<void>
}

interface Session {
  client: Client
  attempt: ConnectAttempt
  since: string
}

/** One client connection, found from the stream aedes reads (`client.conn`). */
interface Connection {
  listener: ListenerKind
  socket: TLSSocket
  guard: MqttFrameGuard
  remoteAddress?: string
  /** Set once CONNECT is accepted: whose topic rules apply. */
  subject?: TopicRuleSubject
  boundRules?: { rules: readonly TopicRule[]; bound: BoundTopicRule[] }
}

/** An IPv4 client on a dual-stack listener shows as ::ffff:a.b.c.d; one address either way. */
function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') ? address.slice(7) : address
}

/**
 * What the connect rate is counted by: an IPv4 address, or an IPv6 /64 (one host usually holds
 * a whole /64 and could otherwise step around the limit by changing addresses).
 */
export function rateLimitKey(address: string): string {
  if (!isIPv6(address)) return address
  // Expand `::` to the groups it stands for, then keep the first four (the /64).
  const [head, tail] = address.split('%')[0].split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`
}

/** The part of aedes's persistence that keeps a persistent session's subscriptions. */
interface SubscriptionStore {
  addSubscriptions(client: Client, subscriptions: Subscription[]): Promise<void>
  removeSubscriptions(client: Client, topics: string[]): Promise<void>
}

/** aedes.publish as aedes calls it internally: with the publishing client (or null) first. */
type AedesPublish = (packet: PublishPacket, client: Client | null | ((error?: Error) => void), done?: (error?: Error) => void) => void

async function listen(server: Server, host: string, port: number, kind: ListenerKind): Promise<ListenerState> {
  server.listen(port, host)
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))])
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const what = kind === 'one-way' ? 'one-way TLS' : 'mutual TLS'
    const reason =
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use, so the ${what} listener is not running`
        : code === 'EACCES'
          ? `port ${port} on ${host} needs privileges this process does not have, so the ${what} listener is not running`
          : `the ${what} listener cannot listen on ${host}:${port} (${code ?? String(error)})`
    return { kind, port, listening: false, error: reason }
  }
  const address = server.address()
  return { kind, port: typeof address === 'object' && address ? address.port : port, listening: true }
}

/**
 * The embedded broker: aedes behind two TLS listeners that enforce the seed platform's device
 * authentication and the folder's topic rules, following registry changes made by any process
 * within a fraction of a second. Connection count, connection rate and packet size are limited
 * before any client data is buffered.
 */
export async function startBroker(registry: BrokerRegistry, options: BrokerOptions = {}): Promise<RunningBroker> {
  const host = options.host ?? DEFAULT_BROKER_SETTINGS.host
  await registry.unlock()
  const readDeviceKey = (device: DeviceRecord) => registry.deviceKeyOf(device)
  const material = await registry.ensureBrokerServerCertificate(options.extraNames ?? [])
  const rootPem = await registry.rootCertificatePem()
  const log = await ConnectionLog.open(registry.dataDir)
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS
  const aedes = await Aedes.createBroker({
    connectTimeout: connectTimeoutMs,
    // Only MQTT 3.1 capped client ids at 23 characters; device IDs may have 36.
    maxClientsIdLength: 65_535,
    drainTimeout: 30_000,
  })
  const limits = {
    maxPacketBytes: options.maxPacketBytes ?? DEFAULT_BROKER_SETTINGS.maxPacketBytes,
    maxConnections: options.maxConnections ?? DEFAULT_BROKER_SETTINGS.maxConnections,
    connectRatePerAddress: options.connectRatePerAddress ?? DEFAULT_BROKER_SETTINGS.connectRatePerAddress,
  }
  const connections = new WeakMap<object, Connection>()
  const sessions = new Map<Client, Session>()
  const sessionListeners = new Set<() => void>()
  const sessionsChanged = () => sessionListeners.forEach((listener) => listener())
  // Rules damaged by a hand edit of the index deny everything rather than stop the broker.
  const rulesIn = (data: StoreData): readonly TopicRule[] => {
    try {
      return topicRulesIn(data)
    } catch {
      return []
    }
  }
  let rules = rulesIn(registry.snapshot())

  const record = (entry: Omit<ConnectionLogEntry, 'time'>) => log.record({ time: new Date().toISOString(), ...entry })

  const connectionOf = (client: Client): Connection => {
    const connection = connections.get(client.conn)
    if (!connection) throw new Error('aedes handed over a connection the broker did not open')
    return connection
  }

  aedes.authenticate = (client, username, password, callback) => {
    const connection = connectionOf(client)
    const { socket, listener } = connection
    const attempt: ConnectAttempt = { listener, clientId: client.id, username: username ?? undefined, password: password ?? undefined }
    if (listener === 'mutual') {
      const peer = socket.getPeerCertificate()
      if (peer && peer.fingerprint256) {
        attempt.certificate = {
          fingerprint256: peer.fingerprint256,
          authorized: socket.authorized,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
        }
      }
    }
    const decision = decideConnection(registry.snapshot(), attempt, readDeviceKey)
    const entry = {
      listener,
      clientId: client.id,
      username: attempt.username,
      fingerprint256: attempt.certificate?.fingerprint256,
      remoteAddress: connection.remoteAddress,
    }
    if (decision.accepted) {
      connection.subject = { clientId: client.id, username: attempt.username }
      sessions.set(client, { client, attempt, since: new Date().toISOString() })
      sessionsChanged()
      record({ ...entry, result: 'accepted' })
      callback(null, true)
    } else {
      record({ ...entry, result: 'refused', reason: decision.reason })
      callback(Object.assign(new Error(decision.reason), { returnCode: decision.returnCode }), false)
    }
  }
  // aedes answers an MQTT 5.0 CONNECT with "unacceptable protocol version" before
  // authentication runs; record that attempt too, with what to do about it.
  aedes.preConnect = (client, packet, callback) => {
    if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
      const connection = connectionOf(client)
      record({
        listener: connection.listener,
        clientId: packet.clientId,
        username: packet.username,
        remoteAddress: connection.remoteAddress,
        result: 'refused',
        reason: `MQTT protocol version ${packet.protocolVersion === 5 ? '5.0' : packet.protocolVersion} is not served; connect with MQTT 3.1.1`,
      })
    }
    callback(null, true)
  }
  aedes.on('clientDisconnect', (client) => {
    if (sessions.delete(client)) sessionsChanged()
  })
  // A misbehaving client is its own problem: never the broker's.
  aedes.on('clientError', () => undefined)
  aedes.on('connectionError', (client, error) => {
    if (error.message !== 'connect did not arrive in time') return
    const connection = connectionOf(client)
    record({
      listener: connection.listener,
      clientId: '',
      remoteAddress: connection.remoteAddress,
      result: 'refused',
      reason: `no CONNECT within ${connectTimeoutMs / 1000} s of the TLS handshake`,
    })
  })

  // ----- topic rules -----
  const allowedFor = (connection: Connection, access: TopicAccess, topic: string): boolean => {
    if (!connection.subject) return false
    if (connection.boundRules?.rules !== rules) {
      connection.boundRules = { rules, bound: bindTopicRules(rules, connection.subject) }
    }
    return topicAllowed(connection.boundRules.bound, access, topic)
  }
  const denialsByTopic = new WindowedCounter(RATE_WINDOW_MS)
  const denialsByClient = new WindowedCounter(RATE_WINDOW_MS)
  const recordDenial = (connection: Connection, what: string, why = 'denied by topic rules') => {
    const clientId = connection.subject?.clientId ?? ''
    if (denialsByTopic.hit(`${clientId}\u0000${what}`) > 1) return
    const count = denialsByClient.hit(clientId)
    if (count > DENIALS_LOGGED_PER_CLIENT + 1) return
    record({
      listener: connection.listener,
      clientId,
      username: connection.subject?.username,
      remoteAddress: connection.remoteAddress,
      result: 'denied',
      reason:
        count > DENIALS_LOGGED_PER_CLIENT
          ? `more than ${DENIALS_LOGGED_PER_CLIENT} topic denials in 10 s; the next ones are not logged until the window passes`
          : `${what} ${why}`,
    })
  }

  // A refused publish is acknowledged as usual and dropped, as mosquitto does: an error here
  // would close the connection, and a device with one wrong topic would reconnect in a loop.
  // aedes has no "drop" answer, so the packet is marked and the broker's publish skips it.
  const deniedPublishes = new WeakSet<object>()
  aedes.authorizePublish = (client, packet, callback) => {
    const connection = client ? connections.get(client.conn) : undefined
    // $SYS/+/new/clients and friends drive aedes itself: never from a device.
    const reserved = packet.topic.startsWith('$SYS/')
    if (connection && !reserved && allowedFor(connection, 'publish', packet.topic)) return callback(null)
    deniedPublishes.add(packet)
    if (connection) {
      const isWill = (client as Client & { will?: unknown }).will === packet
      const what = `${isWill ? 'will message' : 'publish'} to "${packet.topic}"`
      recordDenial(connection, what, reserved ? 'denied: $SYS topics are the broker\'s own' : undefined)
    }
    callback(null)
  }
  const publishThroughAedes = (aedes.publish as unknown as AedesPublish).bind(aedes)
  const publishUnlessDenied: AedesPublish = (packet, client, done) => {
    if (!deniedPublishes.has(packet)) return publishThroughAedes(packet, client, done)
    const callback = typeof client === 'function' ? client : done
    if (callback) process.nextTick(callback)
  }
  Object.assign(aedes, { publish: publishUnlessDenied })
  // aedes persists every filter of a persistent session's SUBSCRIBE once one of them is allowed,
  // refused ones included, and a stored `#` would queue every QoS 1 message for that session.
  const persistence = (aedes as unknown as { persistence: SubscriptionStore }).persistence
  const storeSubscriptions = persistence.addSubscriptions.bind(persistence)
  persistence.addSubscriptions = (client, subscriptions) =>
    storeSubscriptions(client, subscriptions.filter((subscription) => allowedFor(connectionOf(client), 'subscribe', subscription.topic)))
  // A refused filter is granted 128 (failure) in SUBACK; the others in the packet still apply.
  aedes.authorizeSubscribe = (client, subscription, callback) => {
    const connection = connectionOf(client)
    if (allowedFor(connection, 'subscribe', subscription.topic)) return callback(null, subscription)
    recordDenial(connection, `subscribe to "${subscription.topic}"`)
    // Stored under earlier rules, it would keep queueing messages for the session.
    if (!client.clean) persistence.removeSubscriptions(client, [subscription.topic]).catch(() => undefined)
    callback(null, null)
  }
  // Checked again per message: subscriptions made under older rules, a denying rule that only
  // overlaps an allowed filter, and queued messages of a persistent session obey the rules now.
  aedes.authorizeForward = (client, packet) => (allowedFor(connectionOf(client), 'subscribe', packet.topic) ? packet : null)

  // ----- listeners -----
  const openSockets = new Set<Socket>()
  const connectsByAddress = new WindowedCounter(RATE_WINDOW_MS)
  const refusalsLogged = new WindowedCounter(RATE_WINDOW_MS)
  /** At TCP accept, before any TLS work: the connection count and the per-address rate. */
  const admit = (socket: Socket, kind: ListenerKind, tlsServer: TlsServer) => {
    socket.on('error', () => undefined)
    const address = plainAddress(socket.remoteAddress) ?? 'unknown'
    let refusal: string | undefined
    if (openSockets.size >= limits.maxConnections) {
      refusal = `connection limit: ${limits.maxConnections} connections are open (maxConnections)`
    } else if (connectsByAddress.hit(rateLimitKey(address)) > limits.connectRatePerAddress) {
      refusal = `connection rate limit: more than ${limits.connectRatePerAddress} connections from ${address} in 10 s (connectRatePerAddress)`
    }
    if (refusal !== undefined) {
      socket.destroy()
      // A flood is one entry per address and reason per window, not one per connection.
      if (refusalsLogged.hit(`${address}\u0000${refusal}`) === 1) {
        record({ listener: kind, clientId: '', remoteAddress: address, result: 'refused', reason: `${refusal}; further refusals like it are not logged for 10 s` })
      }
      return
    }
    openSockets.add(socket)
    socket.once('close', () => openSockets.delete(socket))
    tlsServer.emit('connection', socket)
  }

  const makeServer = (kind: ListenerKind): Server => {
    const tlsServer = createTlsServer(
      {
        key: material.privateKeyPem,
        cert: material.certificatePem,
        minVersion: 'TLSv1.2',
        handshakeTimeout: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        // On the mutual port the chain is checked here but refused at CONNECT, so the refusal
        // names the client_id and the reason instead of ending as a bare TLS reset.
        ...(kind === 'mutual' ? { ca: [rootPem], requestCert: true, rejectUnauthorized: false } : {}),
      },
      (socket) => {
        socket.on('error', () => undefined)
        const connection: Partial<Connection> = { listener: kind, socket, remoteAddress: plainAddress(socket.remoteAddress) }
        const guard = new MqttFrameGuard(socket, { beforeConnect: PRE_CONNECT_MAX_PACKET_BYTES, afterConnect: limits.maxPacketBytes }, (reason) =>
          record({
            listener: kind,
            clientId: connection.subject?.clientId ?? '',
            username: connection.subject?.username,
            remoteAddress: connection.remoteAddress,
            result: connection.subject ? 'disconnected' : 'refused',
            reason,
          }),
        )
        connection.guard = guard
        connections.set(guard, connection as Connection)
        aedes.handle(guard)
      },
    )
    // The TLS server never listens: the plain TCP server below accepts, and hands it sockets.
    tlsServer.on('tlsClientError', (error, socket) => {
      socket.destroy()
      record({
        listener: kind,
        clientId: '',
        remoteAddress: plainAddress(socket.remoteAddress),
        result: 'refused',
        reason: `TLS handshake failed (${(error as NodeJS.ErrnoException).code ?? error.message})`,
      })
    })
    return createNetServer((socket) => admit(socket, kind, tlsServer))
  }

  const servers = { oneWay: makeServer('one-way'), mutual: makeServer('mutual') }
  const [oneWay, mutual] = await Promise.all([
    listen(servers.oneWay, host, options.oneWayPort ?? DEFAULT_BROKER_SETTINGS.oneWayPort, 'one-way'),
    listen(servers.mutual, host, options.mutualPort ?? DEFAULT_BROKER_SETTINGS.mutualPort, 'mutual'),
  ])

  // Registry changes, from this process or another: re-run every session's decision and drop
  // the ones the change made invalid.
  const stopWatching = watchRegistry(() => registry.snapshot(), REGISTRY_POLL_MS, (current) => {
    // Sessions stay; their next publish, subscription or delivery uses the new rules.
    rules = rulesIn(current)
    for (const session of sessions.values()) {
      const decision = decideConnection(current, session.attempt, readDeviceKey)
      if (decision.accepted) continue
      sessions.delete(session.client)
      sessionsChanged()
      record({
        listener: session.attempt.listener,
        clientId: session.attempt.clientId,
        username: session.attempt.username,
        fingerprint256: session.attempt.certificate?.fingerprint256,
        result: 'disconnected',
        reason: decision.reason,
      })
      session.client.close()
    }
  })

  const sessionList = (): SessionInfo[] =>
    [...sessions.values()].map((session) => ({
      clientId: session.attempt.clientId,
      listener: session.attempt.listener,
      username: session.attempt.username,
      fingerprint256: session.attempt.certificate?.fingerprint256,
      since: session.since,
    }))
  return {
    host,
    oneWay,
    mutual,
    serverCertificate: material.record,
    log,
    sessions: sessionList,
    status: () => ({
      state: 'running',
      host,
      oneWay,
      mutual,
      serverCertificate: serverCertificateView(material.record),
      sessions: sessionList(),
      endpoints: clientEndpoints({ host, oneWayPort: oneWay.port, mutualPort: mutual.port }),
    }),
    onSessionsChange: (listener) => {
      sessionListeners.add(listener)
      return () => sessionListeners.delete(listener)
    },
    close: async () => {
      stopWatching()
      const closing = [servers.oneWay, servers.mutual]
        .filter((server) => server.listening)
        .map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      // Connections still in their TLS handshake, or refused mid-way, are not aedes's.
      for (const socket of openSockets) socket.destroy()
      await Promise.all(closing)
      await log.flushed()
    },
  }
}
