import { randomUUID } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import mqtt, { type IDisconnectPacket, type MqttClient, ReasonCodes } from 'mqtt'
import type { BrokerStatus } from '../broker/types'
import { CertdeskError, invalidInput } from '../errors'
import { type Message, message, renderMessage } from '../messages'
import { loggedBrokerReason, withBrokerReason } from './brokerReason'
import { checkClientMaterial, diagnoseFailure } from './diagnosis'
import { type ConnectionProfile, toMqttOptions } from './connectionProfile'
import { encodePayload, mqtt5Required, receivedProperties, setFields, toMqttPublishProperties } from './messageFields'
import type { Diagnosis, MessageProperties, TesterDrop, TesterEvent, TesterMessage, TesterPublish } from './types'

/** Messages are handed to the screens in batches: one event per 50 ms, not one per message. */
const BATCH_MS = 50

/**
 * Connections the tester holds at once, counting those still connecting. Each is a TLS session
 * and a message buffer in the main process: enough for a bench, not a load generator.
 */
export const MAX_TESTER_SESSIONS = 20

/**
 * mqtt.js reports a SUBACK failure as "Subscribe error: Unspecified error" (the SUBACK packet
 * rides along on the error); this says what happened and where to look. Undefined for anything
 * else (a closed connection, say).
 */
function subscriptionRefusal(error: unknown, filter: string): CertdeskError | undefined {
  if (!(error instanceof Error)) return undefined
  const granted = (error as { packet?: { granted?: unknown } }).packet?.granted
  const code = Array.isArray(granted) ? granted.find((value) => typeof value === 'number' && (value & 0x80) !== 0) : undefined
  if (typeof code !== 'number') return undefined
  return invalidInput(
    code === 0x80
      ? message('tester.subscriptionRefused', { filter })
      : message('tester.subscriptionRefusedWithCode', { filter, code, reason: error.message.replace(/^Subscribe error: /, '') }),
  )
}

/** Certdesk's own broker, as the tester recognises it and reads why it refused or dropped a client. */
export interface EmbeddedBroker {
  /** The data folder whose connection log the broker writes. */
  dataDir: string
  /** The broker as the front door reports it (it may run in another process). */
  status(): BrokerStatus
}

/**
 * Whether the server `client` reached is the embedded broker: one of its listening ports, and its
 * server certificate. (A real broker given the same certificate by `broker export` elsewhere is
 * not: the port tells them apart on this machine.)
 */
function isEmbeddedPeer(client: MqttClient, port: number, broker: EmbeddedBroker | undefined): boolean {
  if (!broker) return false
  const status = broker.status()
  const fingerprint = (client.stream as unknown as Partial<TLSSocket>).getPeerCertificate?.()?.fingerprint256
  const listening = [status.oneWay, status.mutual].some((listener) => listener?.listening && listener.port === port)
  return status.state === 'running' && listening && fingerprint !== undefined && fingerprint === status.serverCertificate?.fingerprint256
}

interface Session {
  client: MqttClient
  clientId: string
  protocolVersion: 4 | 5
  /** The peer showed the embedded broker's server certificate: its log says why it drops us. */
  embedded: boolean
  pending: TesterMessage[]
  timer?: NodeJS.Timeout
  /** MQTT 5: the DISCONNECT the broker sent before it closed the connection. */
  disconnect?: IDisconnectPacket
  /** The last error mqtt.js reported on the open connection (a keepalive timeout, a reset). */
  error?: Error
}

interface Recorded {
  direction: 'in' | 'out'
  topic: string
  qos: 0 | 1 | 2
  retain: boolean
  payload: Buffer
  properties?: MessageProperties
}

/** Why a session the operator did not end has ended, from what the broker said or logged. */
async function dropOf(session: Session, embeddedBroker: EmbeddedBroker | undefined, since: number): Promise<TesterDrop> {
  const packet = session.disconnect
  if (packet) {
    const reasonCode = packet.reasonCode ?? 0
    const reasonString = packet.properties?.reasonString
    const name =
      reasonCode === 0 ? 'Normal disconnection' : (ReasonCodes as Record<number, string | undefined>)[reasonCode] || 'unknown code'
    const said = reasonString
      ? message('tester.disconnectedWithReason', { code: reasonCode, name, reason: reasonString })
      : message('tester.disconnectedWithCode', { code: reasonCode, name })
    return { ...sentence(said), reasonCode, ...(reasonString ? { brokerReason: reasonString } : {}) }
  }
  if (session.embedded && embeddedBroker) {
    const entry = await loggedBrokerReason(embeddedBroker.dataDir, session.clientId, since, 'disconnected')
    if (entry) {
      return {
        ...sentence(message('tester.closedByCertdesk', { reason: entry.reason })),
        brokerReason: entry.reason,
        ...(entry.reasonMessage ? { brokerReasonMessage: entry.reasonMessage } : {}),
      }
    }
  }
  if (session.error) return sentence(message('tester.connectionLost', { error: session.error.message }))
  return sentence(message('tester.brokerClosed'))
}

/** A drop's sentence in English and by key. */
function sentence(reasonMessage: Message): Pick<TesterDrop, 'reason' | 'reasonMessage'> {
  return { reason: renderMessage(reasonMessage), reasonMessage }
}

/**
 * The tester's live connections, held in the main process (mqtt.js), never in the page. The
 * page drives them by id and hears back through events, each naming its session; any number up
 * to MAX_TESTER_SESSIONS live side by side.
 */
export class TesterSessions {
  private readonly sessions = new Map<string, Session>()
  /** Connections being opened: they count towards the limit before they are sessions. */
  private connecting = 0

  /** `embeddedBroker`: Certdesk's own broker, whose logged reasons explain refusals and drops. */
  constructor(
    private readonly emit: (event: TesterEvent) => void,
    private readonly embeddedBroker?: EmbeddedBroker,
  ) {}

  async connect(profile: ConnectionProfile): Promise<{ sessionId: string } | { diagnosis: Diagnosis }> {
    if (this.sessions.size + this.connecting >= MAX_TESTER_SESSIONS) {
      throw new CertdeskError('CONFLICT', message('tester.tooManySessions', { limit: MAX_TESTER_SESSIONS }))
    }
    // A request no broker should be sent is refused here, before any connection.
    const options = toMqttOptions(profile)
    const problem = checkClientMaterial(profile)
    if (problem) return { diagnosis: problem }
    this.connecting += 1
    try {
      return await this.open(profile, options)
    } finally {
      this.connecting -= 1
    }
  }

  private async open(
    profile: ConnectionProfile,
    options: ReturnType<typeof toMqttOptions>,
  ): Promise<{ sessionId: string } | { diagnosis: Diagnosis }> {
    const start = Date.now()
    const sessionId = randomUUID()
    const client = mqtt.connect(options)
    const session: Session = { client, clientId: profile.clientId, protocolVersion: profile.protocolVersion, embedded: false, pending: [] }
    // Heard from the start: a resumed session's queued messages may follow CONNACK in one read.
    client.on('message', (topic, payload, packet) =>
      this.record(sessionId, {
        direction: 'in',
        topic,
        qos: packet.qos,
        retain: packet.retain,
        payload,
        properties: receivedProperties(packet.properties),
      }),
    )
    client.on('disconnect', (packet) => (session.disconnect = packet))
    client.on('error', (error) => (session.error = error))
    const outcome = await new Promise<Error | undefined>((resolve) => {
      let settled = false
      const settle = (error?: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (!error) {
          // Live at once, in the CONNACK's turn: the messages that follow it belong to the session.
          session.embedded = isEmbeddedPeer(client, profile.port, this.embeddedBroker)
          this.sessions.set(sessionId, session)
          client.on('close', () => void this.dropped(sessionId))
          this.emit({ type: 'tester-state', sessionId, state: 'connected' })
        }
        resolve(error)
      }
      const timer = setTimeout(() => settle(Object.assign(new Error('no answer in time'), { code: 'TIMEOUT' })), profile.connectTimeoutMs)
      client.once('connect', () => settle())
      client.once('error', (error) => settle(error))
      client.once('close', () => settle(Object.assign(new Error('closed before the broker answered'), { code: 'CLOSED' })))
    })
    if (outcome) {
      client.end(true)
      const diagnosis = await diagnoseFailure(outcome as Error & { code?: string | number }, profile)
      return { diagnosis: await withBrokerReason(diagnosis, this.embeddedBroker?.dataDir, profile, start) }
    }
    return { sessionId }
  }

  /** The broker (or the network) ended a session: say so, with the broker's reason when there is one. */
  private async dropped(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId)
    if (!session) return
    const since = Date.now()
    this.flush(sessionId)
    this.sessions.delete(sessionId)
    const drop = await dropOf(session, this.embeddedBroker, since)
    this.emit({ type: 'tester-state', sessionId, state: 'disconnected', ...drop })
  }

  private session(sessionId: string): Session {
    const session = this.sessions.get(sessionId)
    if (!session) throw invalidInput(message('tester.sessionClosed'))
    return session
  }

  private record(sessionId: string, recorded: Recorded) {
    const session = this.sessions.get(sessionId)
    if (!session) return
    session.pending.push({
      time: new Date().toISOString(),
      direction: recorded.direction,
      topic: recorded.topic,
      qos: recorded.qos,
      retain: recorded.retain,
      payloadBase64: recorded.payload.toString('base64'),
      ...(recorded.properties ? { properties: recorded.properties } : {}),
    })
    session.timer ??= setTimeout(() => this.flush(sessionId), BATCH_MS)
  }

  private flush(sessionId: string): void {
    const session = this.sessions.get(sessionId)
    if (!session) return
    clearTimeout(session.timer)
    session.timer = undefined
    if (session.pending.length === 0) return
    const messages = session.pending
    session.pending = []
    this.emit({ type: 'tester-messages', sessionId, messages })
  }

  async subscribe(sessionId: string, topic: string, qos: 0 | 1 | 2): Promise<void> {
    try {
      await this.session(sessionId).client.subscribeAsync(topic, { qos })
    } catch (error) {
      throw subscriptionRefusal(error, topic) ?? error
    }
  }

  async unsubscribe(sessionId: string, topic: string): Promise<void> {
    await this.session(sessionId).client.unsubscribeAsync(topic)
  }

  async publish(sessionId: string, message: TesterPublish) {
    const session = this.session(sessionId)
    const payload = encodePayload(message.payload, message.encoding)
    const properties = setFields(message.properties)
    if (properties) mqtt5Required(session.protocolVersion, 'publish')
    const mqttProperties = toMqttPublishProperties(properties)
    await session.client.publishAsync(message.topic, payload, {
      qos: message.qos,
      retain: message.retain,
      ...(mqttProperties ? { properties: mqttProperties } : {}),
    })
    this.record(sessionId, { direction: 'out', topic: message.topic, qos: message.qos, retain: message.retain, payload, properties })
  }

  async disconnect(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId)
    if (!session) return
    this.flush(sessionId)
    this.sessions.delete(sessionId)
    await session.client.endAsync()
    this.emit({ type: 'tester-state', sessionId, state: 'disconnected' })
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((sessionId) => this.disconnect(sessionId)))
  }
}
