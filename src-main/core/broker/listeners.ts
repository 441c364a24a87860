import { once } from 'node:events'
import { type Server, type Socket, createServer as createNetServer, isIPv6 } from 'node:net'
import { type Server as TlsServer, type TLSSocket, createServer as createTlsServer } from 'node:tls'
import { type Message, message, renderMessage } from '../messages'
import { type RecordLogEntry, logReason } from './connectionLog'
import { MqttFrameGuard } from './frameGuard'
import type { TopicRuleSubject } from './topicRules'
import type { ListenerKind, ListenerState } from './types'
import { RATE_WINDOW_MS, WindowedCounter } from './windowedCounter'

/** Before CONNECT is accepted a packet may be this big: a CONNECT with a will message fits. */
const PRE_CONNECT_MAX_PACKET_BYTES = 65_536

/** What the listeners hold every client to, from TCP accept to the end of the connection. */
interface ListenerLimits {
  /** Largest packet after CONNECT, fixed header included. */
  maxPacketBytes: number
  /** Open connections over both listeners; more are refused at TCP accept. */
  maxConnections: number
  /** Connections one address may open per 10 s; more are refused at TCP accept. */
  connectRatePerAddress: number
  /** How long a client may take over its TLS handshake. */
  handshakeTimeoutMs: number
}

/** The broker's server certificate and key, and the root CA the mutual port checks chains against. */
interface ListenerTlsMaterial {
  privateKeyPem: string
  certificatePem: string
  rootPem: string
}

/** A client past its TLS handshake, behind its frame guard: aedes reads `guard`. */
export interface GuardedConnection {
  listener: ListenerKind
  socket: TLSSocket
  guard: MqttFrameGuard
  remoteAddress?: string
  /** Set by the broker once CONNECT is accepted; a frame-guard refusal then names the client. */
  subject?: TopicRuleSubject
}

/** What the listeners need from the broker. */
export interface ListenerSetup {
  host: string
  oneWayPort: number
  mutualPort: number
  limits: ListenerLimits
  tls: ListenerTlsMaterial
  /** Refusals at accept, failed handshakes and oversized packets go to the connection log. */
  record: RecordLogEntry
  /** Called with each guarded connection; the broker hands `guard` to aedes. */
  onConnection(connection: GuardedConnection): void
}

export interface BrokerListeners {
  oneWay: ListenerState
  mutual: ListenerState
  /** Stops accepting; resolves once both servers have closed, which is when their connections have ended. */
  stopAccepting(): Promise<void>
  /** Connections still in their TLS handshake, or refused mid-way, are not aedes's: they end here. */
  destroyOpenSockets(): void
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
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

/** At TCP accept, before any TLS work: the connection count and the per-address rate. */
class AcceptLimits {
  /** Every accepted socket still open, on both listeners. */
  readonly openSockets = new Set<Socket>()
  private readonly connectsByAddress = new WindowedCounter(RATE_WINDOW_MS)
  private readonly refusalsLogged = new WindowedCounter(RATE_WINDOW_MS)

  constructor(
    private readonly limits: ListenerLimits,
    private readonly record: RecordLogEntry,
  ) {}

  /** Hands `socket` to `tlsServer`, or destroys it when a limit is reached. */
  admit(socket: Socket, kind: ListenerKind, tlsServer: TlsServer): void {
    socket.on('error', () => undefined)
    const address = plainAddress(socket.remoteAddress) ?? 'unknown'
    const { maxConnections, connectRatePerAddress } = this.limits
    let refusal: Message | undefined
    if (this.openSockets.size >= maxConnections) {
      refusal = message('refusal.connectionLimit', { max: maxConnections })
    } else if (this.connectsByAddress.hit(rateLimitKey(address)) > connectRatePerAddress) {
      refusal = message('refusal.connectionRate', { max: connectRatePerAddress, address })
    }
    if (refusal !== undefined) {
      socket.destroy()
      // A flood is one entry per address and reason per window, not one per connection.
      if (this.refusalsLogged.hit(`${address}\u0000${refusal.key}`) === 1) {
        this.record({ listener: kind, clientId: '', remoteAddress: address, result: 'refused', ...logReason(refusal) })
      }
      return
    }
    this.openSockets.add(socket)
    socket.once('close', () => this.openSockets.delete(socket))
    tlsServer.emit('connection', socket)
  }
}

/** Puts the frame guard between a client's TLS socket and aedes; what it refuses is logged. */
function guardConnection(socket: TLSSocket, kind: ListenerKind, setup: ListenerSetup): GuardedConnection {
  socket.on('error', () => undefined)
  const connection: Partial<GuardedConnection> = { listener: kind, socket, remoteAddress: plainAddress(socket.remoteAddress) }
  const limits = { beforeConnect: PRE_CONNECT_MAX_PACKET_BYTES, afterConnect: setup.limits.maxPacketBytes }
  connection.guard = new MqttFrameGuard(socket, limits, (reason, reasonMessage) =>
    setup.record({
      listener: kind,
      clientId: connection.subject?.clientId ?? '',
      username: connection.subject?.username,
      remoteAddress: connection.remoteAddress,
      result: connection.subject ? 'disconnected' : 'refused',
      reason,
      reasonMessage,
    }),
  )
  return connection as GuardedConnection
}

/** One listener: a plain TCP server that applies the accept limits, in front of a TLS server. */
function createListener(kind: ListenerKind, setup: ListenerSetup, acceptLimits: AcceptLimits): Server {
  const { tls, record } = setup
  const tlsServer = createTlsServer(
    {
      key: tls.privateKeyPem,
      cert: tls.certificatePem,
      minVersion: 'TLSv1.2',
      handshakeTimeout: setup.limits.handshakeTimeoutMs,
      // On the mutual port the chain is checked here but refused at CONNECT, so the refusal
      // names the client_id and the reason instead of ending as a bare TLS reset.
      ...(kind === 'mutual' ? { ca: [tls.rootPem], requestCert: true, rejectUnauthorized: false } : {}),
    },
    (socket) => setup.onConnection(guardConnection(socket, kind, setup)),
  )
  // The TLS server never listens: the plain TCP server below accepts, and hands it sockets.
  tlsServer.on('tlsClientError', (error, socket) => {
    socket.destroy()
    record({
      listener: kind,
      clientId: '',
      remoteAddress: plainAddress(socket.remoteAddress),
      result: 'refused',
      ...logReason(message('refusal.tlsHandshake', { error: (error as NodeJS.ErrnoException).code ?? error.message })),
    })
  })
  // Nagle off, as mosquitto's `set_tcp_nodelay true`: a small PUBLISH or CONNACK leaves at once.
  return createNetServer({ noDelay: true }, (socket) => acceptLimits.admit(socket, kind, tlsServer))
}

async function listen(server: Server, host: string, port: number, kind: ListenerKind): Promise<ListenerState> {
  server.listen(port, host)
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error))])
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const oneWay = kind === 'one-way'
    const reason =
      code === 'EADDRINUSE'
        ? message(oneWay ? 'broker.oneWayPortInUse' : 'broker.mutualPortInUse', { port, host })
        : code === 'EACCES'
          ? message(oneWay ? 'broker.oneWayPortPrivileged' : 'broker.mutualPortPrivileged', { port, host })
          : message(oneWay ? 'broker.oneWayCannotListen' : 'broker.mutualCannotListen', { host, port, reason: code ?? String(error) })
    return { kind, port, listening: false, error: renderMessage(reason), errorMessage: reason }
  }
  const address = server.address()
  return { kind, port: typeof address === 'object' && address ? address.port : port, listening: true }
}

/**
 * The broker's two TLS listeners, one-way and mutual. Connection count and rate are limited at
 * TCP accept and packet size by the frame guard, before any client data is buffered. A port
 * that cannot be bound leaves that listener not running, with the reason in its state.
 */
export async function openListeners(setup: ListenerSetup): Promise<BrokerListeners> {
  const acceptLimits = new AcceptLimits(setup.limits, setup.record)
  const servers = [createListener('one-way', setup, acceptLimits), createListener('mutual', setup, acceptLimits)]
  const [oneWay, mutual] = await Promise.all([
    listen(servers[0], setup.host, setup.oneWayPort, 'one-way'),
    listen(servers[1], setup.host, setup.mutualPort, 'mutual'),
  ])
  return {
    oneWay,
    mutual,
    stopAccepting: async () => {
      const closing = servers
        .filter((server) => server.listening)
        .map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
      await Promise.all(closing)
    },
    destroyOpenSockets: () => {
      for (const socket of acceptLimits.openSockets) socket.destroy()
    },
  }
}
