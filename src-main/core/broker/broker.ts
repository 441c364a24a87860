import { once } from 'node:events'
import { type Server, type TLSSocket, createServer } from 'node:tls'
import { Aedes, type Client } from 'aedes'
import { watchRegistry } from '../registry/watchRegistry'
import type { BrokerServerCertificateRecord, StoreData } from '../store/schema'
import { DEFAULT_BROKER_SETTINGS } from './settings'
import { type ConnectAttempt, decideConnection } from './authentication'
import { ConnectionLog } from './connectionLog'
import type { ConnectionLogEntry, ListenerKind, ListenerState, SessionInfo } from './types'

export type { ListenerState, SessionInfo }
import type { ServerCertificateMaterial } from './serverCertificate'

/** How often the broker looks for registry changes (a stat of the index): well inside 1 s. */
const REGISTRY_POLL_MS = 200
/** A client gets this long for its TLS handshake and then its CONNECT before it is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000
const CONNECT_TIMEOUT_MS = 10_000

/** What the broker needs from the core: the registry as it is now, and its TLS material. */
export interface BrokerRegistry {
  dataDir: string
  snapshot(): StoreData
  rootCertificatePem(): Promise<string>
  ensureBrokerServerCertificate(extraNames: string[]): Promise<ServerCertificateMaterial>
}

export interface BrokerOptions {
  host?: string
  oneWayPort?: number
  mutualPort?: number
  extraNames?: string[]
  /** How long a client may take over its TLS handshake, and then its CONNECT (default 10 s each). */
  handshakeTimeoutMs?: number
  connectTimeoutMs?: number
}



export interface RunningBroker {
  host: string
  oneWay: ListenerState
  mutual: ListenerState
  serverCertificate: BrokerServerCertificateRecord
  log: ConnectionLog
  sessions(): SessionInfo[]
  close(): Promise<void>
}

interface Session {
  client: Client
  attempt: ConnectAttempt
  since: string
}

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
 * authentication, following registry changes made by any process within a fraction of a second.
 */
export async function startBroker(registry: BrokerRegistry, options: BrokerOptions = {}): Promise<RunningBroker> {
  const host = options.host ?? DEFAULT_BROKER_SETTINGS.host
  const material = await registry.ensureBrokerServerCertificate(options.extraNames ?? [])
  const rootPem = await registry.rootCertificatePem()
  const log = await ConnectionLog.open(registry.dataDir)
  const aedes = await Aedes.createBroker({
    connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    // Only MQTT 3.1 capped client ids at 23 characters; device IDs may have 36.
    maxClientsIdLength: 65_535,
    drainTimeout: 30_000,
  })
  const listenerOf = new WeakMap<object, ListenerKind>()
  const sessions = new Map<Client, Session>()

  const record = (entry: Omit<ConnectionLogEntry, 'time'>) => log.record({ time: new Date().toISOString(), ...entry })

  aedes.authenticate = (client, username, password, callback) => {
    const socket = client.conn as TLSSocket
    const listener = listenerOf.get(socket) ?? 'one-way'
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
    const decision = decideConnection(registry.snapshot(), attempt)
    const entry = {
      listener,
      clientId: client.id,
      username: attempt.username,
      fingerprint256: attempt.certificate?.fingerprint256,
      remoteAddress: socket.remoteAddress,
    }
    if (decision.accepted) {
      sessions.set(client, { client, attempt, since: new Date().toISOString() })
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
      const socket = client.conn as TLSSocket
      record({
        listener: listenerOf.get(socket) ?? 'one-way',
        clientId: packet.clientId,
        username: packet.username,
        remoteAddress: socket.remoteAddress,
        result: 'refused',
        reason: `MQTT protocol version ${packet.protocolVersion === 5 ? '5.0' : packet.protocolVersion} is not served; connect with MQTT 3.1.1`,
      })
    }
    callback(null, true)
  }
  aedes.on('clientDisconnect', (client) => sessions.delete(client))
  // A misbehaving client is its own problem: never the broker's.
  aedes.on('clientError', () => undefined)
  aedes.on('connectionError', () => undefined)

  const makeServer = (kind: ListenerKind): Server => {
    const server = createServer(
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
        listenerOf.set(socket, kind)
        socket.on('error', () => undefined)
        aedes.handle(socket)
      },
    )
    server.on('tlsClientError', (error, socket) => {
      socket.destroy()
      record({
        listener: kind,
        clientId: '',
        remoteAddress: socket.remoteAddress,
        result: 'refused',
        reason: `TLS handshake failed (${(error as NodeJS.ErrnoException).code ?? error.message})`,
      })
    })
    return server
  }

  const servers = { oneWay: makeServer('one-way'), mutual: makeServer('mutual') }
  const [oneWay, mutual] = await Promise.all([
    listen(servers.oneWay, host, options.oneWayPort ?? DEFAULT_BROKER_SETTINGS.oneWayPort, 'one-way'),
    listen(servers.mutual, host, options.mutualPort ?? DEFAULT_BROKER_SETTINGS.mutualPort, 'mutual'),
  ])

  // Registry changes, from this process or another: re-run every session's decision and drop
  // the ones the change made invalid.
  const stopWatching = watchRegistry(() => registry.snapshot(), REGISTRY_POLL_MS, (current) => {
    for (const session of sessions.values()) {
      const decision = decideConnection(current, session.attempt)
      if (decision.accepted) continue
      sessions.delete(session.client)
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

  return {
    host,
    oneWay,
    mutual,
    serverCertificate: material.record,
    log,
    sessions: () =>
      [...sessions.values()].map((session) => ({
        clientId: session.attempt.clientId,
        listener: session.attempt.listener,
        username: session.attempt.username,
        fingerprint256: session.attempt.certificate?.fingerprint256,
        since: session.since,
      })),
    close: async () => {
      stopWatching()
      const closing = [servers.oneWay, servers.mutual]
        .filter((server) => server.listening)
        .map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await Promise.all(closing)
      await log.flushed()
    },
  }
}
