import type { Aedes, AuthenticateError, Client } from 'aedes'
import type { StoreData } from '../store/schema'
import { type ConnectAttempt, type DeviceKeyReader, decideConnection } from './authentication'
import { message } from '../messages'
import { type RecordLogEntry, logReason } from './connectionLog'
import type { GuardedConnection } from './listeners'
import type { SessionInfo } from './types'

/** What the CONNECT hooks read of a client's connection; they set `subject` on acceptance. */
export type ConnectingClient = Pick<GuardedConnection, 'listener' | 'socket' | 'remoteAddress' | 'subject'>

/** What the sessions need from the broker. */
export interface SessionSetup {
  /** The registry as it is now: every CONNECT is decided against it. */
  snapshot(): StoreData
  readDeviceKey: DeviceKeyReader
  /** The connection aedes handed over for `client` (it throws if the broker opened none). */
  connectionOf(client: Client): ConnectingClient
  record: RecordLogEntry
  /** How long aedes waits for CONNECT after the TLS handshake: the log names it. */
  connectTimeoutMs: number
}

interface Session {
  client: Client
  attempt: ConnectAttempt
  since: string
}

/** What the client showed at CONNECT: its MQTT fields, and on the mutual port its certificate. */
function attemptOf(
  client: Client,
  connection: ConnectingClient,
  username: string | undefined,
  password: Buffer | undefined,
): ConnectAttempt {
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
  return attempt
}

/** The clients whose CONNECT the seed platform's device authentication accepted. */
export class DeviceSessions {
  private readonly sessions = new Map<Client, Session>()
  private readonly listeners = new Set<() => void>()

  constructor(private readonly setup: SessionSetup) {}

  /** Decides a CONNECT, logs the decision and answers aedes. */
  authenticate(
    client: Client,
    attempt: ConnectAttempt,
    connection: ConnectingClient,
    callback: (error: AuthenticateError | null, success: boolean) => void,
  ): void {
    const decision = decideConnection(this.setup.snapshot(), attempt, this.setup.readDeviceKey)
    const entry = {
      listener: attempt.listener,
      clientId: client.id,
      username: attempt.username,
      fingerprint256: attempt.certificate?.fingerprint256,
      remoteAddress: connection.remoteAddress,
    }
    if (decision.accepted) {
      connection.subject = { clientId: client.id, username: attempt.username }
      this.sessions.set(client, { client, attempt, since: new Date().toISOString() })
      this.changed()
      this.setup.record({ ...entry, result: 'accepted' })
      callback(null, true)
    } else {
      this.setup.record({ ...entry, result: 'refused', reason: decision.reason, reasonMessage: decision.reasonMessage })
      callback(Object.assign(new Error(decision.reason), { returnCode: decision.returnCode }), false)
    }
  }

  end(client: Client): void {
    if (this.sessions.delete(client)) this.changed()
  }

  /** Re-runs every session's decision against `data` and disconnects the ones it made invalid. */
  recheck(data: StoreData): void {
    for (const session of this.sessions.values()) {
      const decision = decideConnection(data, session.attempt, this.setup.readDeviceKey)
      if (decision.accepted) continue
      this.sessions.delete(session.client)
      this.changed()
      this.setup.record({
        listener: session.attempt.listener,
        clientId: session.attempt.clientId,
        username: session.attempt.username,
        fingerprint256: session.attempt.certificate?.fingerprint256,
        result: 'disconnected',
        reason: decision.reason,
        reasonMessage: decision.reasonMessage,
      })
      session.client.close()
    }
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((session) => ({
      clientId: session.attempt.clientId,
      listener: session.attempt.listener,
      username: session.attempt.username,
      fingerprint256: session.attempt.certificate?.fingerprint256,
      since: session.since,
    }))
  }

  /** Called when sessions come and go; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed(): void {
    this.listeners.forEach((listener) => listener())
  }
}

/**
 * Puts aedes's CONNECT and connection hooks on the device sessions: authentication, the log
 * entries for attempts aedes refuses on its own, and the end of each session.
 */
export function admitDeviceSessions(aedes: Aedes, setup: SessionSetup): DeviceSessions {
  const { connectionOf, record } = setup
  const sessions = new DeviceSessions(setup)
  aedes.authenticate = (client, username, password, callback) => {
    const connection = connectionOf(client)
    sessions.authenticate(client, attemptOf(client, connection, username, password), connection, callback)
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
        ...logReason(
          message('refusal.protocolVersion', { version: packet.protocolVersion === 5 ? '5.0' : String(packet.protocolVersion) }),
        ),
      })
    }
    callback(null, true)
  }
  aedes.on('clientDisconnect', (client) => sessions.end(client))
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
      ...logReason(message('refusal.noConnect', { seconds: setup.connectTimeoutMs / 1000 })),
    })
  })
  return sessions
}
