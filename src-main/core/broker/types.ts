// Types only, no Node imports: the renderer shows these.
import type { Message } from '../messages'
import type { ServerCertificateView } from '../registry/views'

export type ListenerKind = 'one-way' | 'mutual'

export interface ConnectionLogEntry {
  time: string
  listener: ListenerKind
  clientId: string
  username?: string
  /** SHA-256 fingerprint of the client certificate, on the mutual port. */
  fingerprint256?: string
  remoteAddress?: string
  /** 'denied': a publish or subscription the topic rules refused; the session stays. */
  result: 'accepted' | 'refused' | 'disconnected' | 'denied'
  /** Why, in plain words, for a refusal, a disconnection or a denial. */
  reason?: string
  /** The same reason as the catalog's key and values (core/messages.ts): what a screen translates. */
  reasonMessage?: Message
}

export interface ListenerState {
  kind: ListenerKind
  port: number
  listening: boolean
  /** Why it is not listening, in one sentence. */
  error?: string
  /** The same sentence as the catalog's key and values. */
  errorMessage?: Message
}

export interface SessionInfo {
  clientId: string
  listener: ListenerKind
  username?: string
  fingerprint256?: string
  since: string
}

/** Where a client on this machine reaches the broker: the host to use and the two ports. */
export interface ClientEndpoints {
  host: string
  oneWayPort: number
  mutualPort: number
}

/** The broker as every front door reports it; one source, `RunningBroker.status()`. */
export interface BrokerStatus {
  state: 'running' | 'stopped'
  /** Why it is not running, in one sentence. */
  error?: string
  /** The same sentence as the catalog's key and values, when it is one of the catalog's. */
  errorMessage?: Message
  /** The address it listens on. */
  host?: string
  oneWay?: ListenerState
  mutual?: ListenerState
  serverCertificate?: ServerCertificateView
  sessions: SessionInfo[]
  /** What a client on this machine connects to (running or not: from the saved settings then). */
  endpoints: ClientEndpoints
}
