import { Aedes, type Client } from 'aedes'
import { watchRegistry } from '../registry/watchRegistry'
import type { BrokerServerCertificateRecord, DeviceRecord, StoreData } from '../store/schema'
import { DEFAULT_BROKER_SETTINGS } from './settings'
import { ConnectionLog, type RecordLogEntry } from './connectionLog'
import { type GuardedConnection, openListeners } from './listeners'
import { admitDeviceSessions } from './sessions'
import { type RuledConnection, enforceTopicRules } from './topicAuthorization'
import type { BrokerStatus, ListenerState } from './types'
import { clientEndpoints } from './endpoints'
import { serverCertificateView } from '../registry/views'
import type { ServerCertificateMaterial } from './serverCertificate'
import { intermediateCertificates } from '../pki/importedCa'

export type { ListenerState }

/** How often the broker looks for registry changes (a stat of the index): well inside 1 s. */
const REGISTRY_POLL_MS = 200
/** A client gets this long for its TLS handshake and then its CONNECT before it is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000
const CONNECT_TIMEOUT_MS = 10_000
/**
 * Messages aedes hands to its emitter at once before queueing the rest. Its default of 100 is
 * outgrown as soon as a few publishers send faster than one delivery round: the queue is then
 * drained with an Array.shift per message (O(n), 54 % of the broker's CPU in a profile) and each
 * release runs the next client's batch on the same stack (a stack overflow under load). What is
 * in flight is bounded anyway: aedes reads a client's next batch only when its last one is done.
 */
const EMITTER_CONCURRENCY = 1_000_000

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
  /** Everything a front door shows: listeners, sessions, server certificate, client endpoints. */
  status(): BrokerStatus
  /** Called when sessions come and go (the desktop app's broker process forwards it). */
  onSessionsChange(listener: () => void): () => void
  close(): Promise<void>
}

/** One client connection, found from the stream aedes reads (`client.conn`). */
interface Connection extends GuardedConnection, RuledConnection {}

/**
 * The embedded broker: aedes behind two TLS listeners that enforce the seed platform's device
 * authentication and the folder's topic rules, following registry changes made by any process
 * within a fraction of a second. Connection count, connection rate and packet size are limited
 * before any client data is buffered.
 */
export async function startBroker(registry: BrokerRegistry, options: BrokerOptions = {}): Promise<RunningBroker> {
  const host = options.host ?? DEFAULT_BROKER_SETTINGS.host
  await registry.unlock()
  const material = await registry.ensureBrokerServerCertificate(options.extraNames ?? [])
  const rootPem = await registry.rootCertificatePem()
  const log = await ConnectionLog.open(registry.dataDir)
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS
  const aedes = await Aedes.createBroker({
    concurrency: EMITTER_CONCURRENCY,
    connectTimeout: connectTimeoutMs,
    // Only MQTT 3.1 capped client ids at 23 characters; device IDs may have 36.
    maxClientsIdLength: 65_535,
    drainTimeout: 30_000,
  })
  const record: RecordLogEntry = (entry) => log.record({ time: new Date().toISOString(), ...entry })

  const connections = new WeakMap<object, Connection>()
  const findConnection = (client: Client): Connection | undefined => connections.get(client.conn)
  const connectionOf = (client: Client): Connection => {
    const connection = findConnection(client)
    if (!connection) throw new Error('aedes handed over a connection the broker did not open')
    return connection
  }

  const sessions = admitDeviceSessions(aedes, {
    snapshot: () => registry.snapshot(),
    readDeviceKey: (device) => registry.deviceKeyOf(device),
    connectionOf,
    record,
    connectTimeoutMs,
  })
  const topicAuthorization = enforceTopicRules(aedes, registry.snapshot(), { findConnection, connectionOf, record })
  const listeners = await openListeners({
    host,
    oneWayPort: options.oneWayPort ?? DEFAULT_BROKER_SETTINGS.oneWayPort,
    mutualPort: options.mutualPort ?? DEFAULT_BROKER_SETTINGS.mutualPort,
    limits: {
      maxPacketBytes: options.maxPacketBytes ?? DEFAULT_BROKER_SETTINGS.maxPacketBytes,
      maxConnections: options.maxConnections ?? DEFAULT_BROKER_SETTINGS.maxConnections,
      connectRatePerAddress: options.connectRatePerAddress ?? DEFAULT_BROKER_SETTINGS.connectRatePerAddress,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    },
    // An imported intermediate CA: the server sends its chain too, so a device that trusts only the root verifies it.
    tls: { privateKeyPem: material.privateKeyPem, certificatePem: material.certificatePem + intermediateCertificates(rootPem), rootPem },
    record,
    onConnection: (connection) => {
      connections.set(connection.guard, connection)
      aedes.handle(connection.guard)
    },
  })
  const { oneWay, mutual } = listeners

  // Registry changes, from this process or another: re-run every session's decision and drop
  // the ones the change made invalid.
  const stopWatching = watchRegistry(
    () => registry.snapshot(),
    REGISTRY_POLL_MS,
    (current) => {
      // Sessions stay; their next publish, subscription or delivery uses the new rules.
      topicAuthorization.follow(current)
      sessions.recheck(current)
    },
  )

  return {
    host,
    oneWay,
    mutual,
    serverCertificate: material.record,
    log,
    status: () => ({
      state: 'running',
      host,
      oneWay,
      mutual,
      serverCertificate: serverCertificateView(material.record),
      sessions: sessions.list(),
      endpoints: clientEndpoints({ host, oneWayPort: oneWay.port, mutualPort: mutual.port }),
    }),
    onSessionsChange: (listener) => sessions.onChange(listener),
    close: async () => {
      stopWatching()
      const stopped = listeners.stopAccepting()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      listeners.destroyOpenSockets()
      await stopped
      await log.flushed()
    },
  }
}
