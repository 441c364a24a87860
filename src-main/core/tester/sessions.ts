import { randomUUID } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import { CertdeskError, invalidInput } from '../errors'
import { checkClientMaterial, diagnoseFailure } from './diagnosis'
import { type ConnectionProfile, toMqttOptions } from './connectionProfile'
import type { Diagnosis, PayloadEncoding, TesterEvent, TesterMessage, TesterPublish } from './types'

/** Messages are handed to the screens in batches: one event per 50 ms, not one per message. */
const BATCH_MS = 50

/** Turns what the operator typed into the bytes to publish. */
export function encodePayload(payload: string, encoding: PayloadEncoding): Buffer {
  switch (encoding) {
    case 'text':
      return Buffer.from(payload, 'utf8')
    case 'json':
      try {
        return Buffer.from(JSON.stringify(JSON.parse(payload)), 'utf8')
      } catch (error) {
        throw new CertdeskError('INVALID_INPUT', 'The payload is not valid JSON.', { cause: error })
      }
    case 'hex': {
      const digits = payload.replace(/\s+/g, '')
      if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw invalidInput('The payload is not hex (pairs of 0-9, a-f).')
      return Buffer.from(digits, 'hex')
    }
    case 'base64':
      if (!/^[A-Za-z0-9+/\s]*={0,2}$/.test(payload)) throw invalidInput('The payload is not base64.')
      return Buffer.from(payload, 'base64')
  }
}

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
  const reason = code === 0x80 ? 'SUBACK 128, failure' : `reason code ${code}, ${error.message.replace(/^Subscribe error: /, '')}`
  return invalidInput(
    `The broker refused the subscription to "${filter}" (${reason}); Certdesk's own broker does so when its topic rules do not allow the filter (see them on Authority, or with certdesk broker acl).`,
  )
}

interface Session {
  client: MqttClient
  pending: TesterMessage[]
  timer?: NodeJS.Timeout
}

/**
 * The tester's live connections, held in the main process (mqtt.js), never in the page. The
 * page drives them by id and hears back through events.
 */
export class TesterSessions {
  private readonly sessions = new Map<string, Session>()

  constructor(private readonly emit: (event: TesterEvent) => void) {}

  async connect(profile: ConnectionProfile): Promise<{ sessionId: string } | { diagnosis: Diagnosis }> {
    const problem = checkClientMaterial(profile)
    if (problem) return { diagnosis: problem }
    const sessionId = randomUUID()
    const client = mqtt.connect(toMqttOptions(profile))
    const outcome = await new Promise<Error | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(Object.assign(new Error('no answer in time'), { code: 'TIMEOUT' })), profile.connectTimeoutMs)
      client.once('connect', () => (clearTimeout(timer), resolve(undefined)))
      client.once('error', (error) => (clearTimeout(timer), resolve(error)))
      client.once(
        'close',
        () => (clearTimeout(timer), resolve(Object.assign(new Error('closed before the broker answered'), { code: 'CLOSED' }))),
      )
    })
    if (outcome) {
      client.end(true)
      return { diagnosis: await diagnoseFailure(outcome as Error & { code?: string | number }, profile) }
    }
    const session: Session = { client, pending: [] }
    this.sessions.set(sessionId, session)
    client.on('message', (topic, payload, packet) =>
      this.record(sessionId, { direction: 'in', topic, qos: packet.qos, retain: packet.retain, payload }),
    )
    client.on('close', () => {
      if (!this.sessions.has(sessionId)) return
      this.flush(sessionId)
      this.sessions.delete(sessionId)
      this.emit({ type: 'tester-state', sessionId, state: 'disconnected', reason: 'The broker closed the connection.' })
    })
    client.on('error', () => undefined)
    this.emit({ type: 'tester-state', sessionId, state: 'connected' })
    return { sessionId }
  }

  private session(sessionId: string): Session {
    const session = this.sessions.get(sessionId)
    if (!session) throw invalidInput('That tester connection is closed; connect again.')
    return session
  }

  private record(sessionId: string, message: { direction: 'in' | 'out'; topic: string; qos: 0 | 1 | 2; retain: boolean; payload: Buffer }) {
    const session = this.sessions.get(sessionId)
    if (!session) return
    session.pending.push({
      time: new Date().toISOString(),
      direction: message.direction,
      topic: message.topic,
      qos: message.qos,
      retain: message.retain,
      payloadBase64: message.payload.toString('base64'),
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
    await session.client.publishAsync(message.topic, payload, { qos: message.qos, retain: message.retain })
    this.record(sessionId, { direction: 'out', topic: message.topic, qos: message.qos, retain: message.retain, payload })
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
