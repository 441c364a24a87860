// Types only, no Node imports: the renderer shows these.
import type { Message } from '../messages'

export type DiagnosisCode =
  | 'untrusted-ca'
  | 'host-name-mismatch'
  | 'server-certificate-expired'
  | 'server-certificate-not-yet-valid'
  | 'wrong-key-passphrase'
  | 'key-certificate-mismatch'
  | 'unreadable-client-material'
  | 'client-certificate-refused'
  | 'client-certificate-expired'
  | 'client-certificate-not-yet-valid'
  | 'tls-version-mismatch'
  | 'alpn-mismatch'
  | 'not-tls'
  | 'connection-refused'
  | 'timeout'
  | 'dns'
  | 'mqtt-bad-credentials'
  | 'mqtt-not-authorized'
  | 'mqtt-client-id-rejected'
  | 'mqtt-unsupported-protocol'
  | 'mqtt-server-unavailable'
  | 'connection-closed'
  | 'unknown'

export interface ServerCertificateSummary {
  subject: string
  issuer: string
  names: string[]
  validFrom: string
  validTo: string
  fingerprint256: string
}

export interface Diagnosis {
  code: DiagnosisCode
  /** What happened, in one sentence. */
  summary: string
  /** What to do about it. */
  nextStep: string
  /** The error as the TLS or MQTT stack reported it, for the curious. */
  detail?: string
  /** Against Certdesk's own broker: the reason it logged for refusing this client. */
  brokerReason?: string
  /** The server's certificate chain, leaf first, when the failure concerns it. */
  serverChain?: ServerCertificateSummary[]
  /**
   * The same sentences as the catalog's keys and values (core/messages.ts), which a screen words
   * in its own language: summary and nextStep always, brokerReason when the broker logged one.
   */
  messages?: { summary: Message; nextStep: Message; brokerReason?: Message }
}

export interface QuickTestResult {
  pass: boolean
  host: string
  port: number
  clientId: string
  /** Milliseconds from start to CONNACK. */
  connectMs?: number
  /** Milliseconds from publishing to receiving the message back. */
  roundTripMs?: number
  totalMs: number
  diagnosis?: Diagnosis
}

/** A quick test of a registered device: one click from its page. */
export interface DeviceQuickTest {
  kind: 'device'
  deviceId: string
  port?: number
  host?: string
  /** Which bound certificate, when several are. */
  certificateId?: string
}

/**
 * A quick test described by hand. Secrets Certdesk holds are named, not sent: 'certdesk' trusts
 * the root CA, and a client certificate is given by id; pasted PEM is the user's own.
 */
export interface ManualQuickTest {
  kind: 'manual'
  host: string
  port: number
  clientId: string
  username?: string
  password?: string
  protocolVersion: 4 | 5
  keepalive?: number
  clean?: boolean
  /** Published by the broker for this client when its connection drops without a DISCONNECT. */
  will?: TesterWill
  /** MQTT 5 CONNECT properties; refused with protocolVersion 4. */
  connectProperties?: ConnectProperties
  verification: {
    mode: 'certdesk' | 'pem' | 'system' | 'off'
    caPem?: string
    serverName?: string
    minVersion?: 'TLSv1.2' | 'TLSv1.3'
    alpnProtocols?: string[]
  }
  client: {
    mode: 'none' | 'certdesk' | 'pem' | 'pkcs12'
    certificateId?: string
    certificatePem?: string
    privateKeyPem?: string
    /** A PKCS#12 (.p12/.pfx) file, base64. */
    pkcs12Base64?: string
    passphrase?: string
  }
}

/**
 * One MQTT 5 user property. A list, not an object: it keeps their order and a name given twice,
 * as MQTT 5 does, and a property named like a secret field is not stripped from a saved profile.
 */
export interface UserProperty {
  key: string
  value: string
}

/**
 * The MQTT 5 CONNECT properties the tester sends: a small set that changes what the broker does
 * with the session. Unset, empty strings and empty lists are not sent.
 */
export interface ConnectProperties {
  /** Seconds the broker keeps the session after the connection closes (0: it ends with it). */
  sessionExpiryInterval?: number
  /** QoS 1 and 2 messages the broker may have unacknowledged towards this client at once. */
  receiveMaximum?: number
  userProperties?: UserProperty[]
}

/** MQTT 5 properties of a message: one the tester publishes, or one it received. */
export interface MessageProperties {
  userProperties?: UserProperty[]
  contentType?: string
  /** Seconds the broker keeps the message for a subscriber that has not had it yet. */
  messageExpiryInterval?: number
  responseTopic?: string
  /** Correlation data, as UTF-8 text. */
  correlationData?: string
}

/** The Last Will of a tester connection; the payload is written in `encoding`. */
export interface TesterWill {
  topic: string
  payload: string
  encoding: PayloadEncoding
  qos: 0 | 1 | 2
  retain: boolean
}

/** Fields of a request that hold secrets, at any depth: never written to disk with a saved profile. */
export const SECRET_FIELDS = ['password', 'privateKeyPem', 'passphrase', 'pkcs12Base64'] as const

/** What the tester screen, the contract and a saved profile describe a connection with. */
export type QuickTestRequest = DeviceQuickTest | ManualQuickTest

export type PayloadEncoding = 'text' | 'json' | 'hex' | 'base64'

/** A message a tester session publishes; the payload is written in `encoding`. */
export interface TesterPublish {
  topic: string
  payload: string
  encoding: PayloadEncoding
  qos: 0 | 1 | 2
  retain: boolean
  /** MQTT 5 only: refused on a 3.1.1 connection. */
  properties?: MessageProperties
}

/** One MQTT message seen by a tester session, either way. The payload travels as base64. */
export interface TesterMessage {
  time: string
  direction: 'in' | 'out'
  topic: string
  qos: 0 | 1 | 2
  retain: boolean
  payloadBase64: string
  /** The MQTT 5 properties it was published or received with, when it had any. */
  properties?: MessageProperties
}

/** Why a tester session ended when the operator did not end it. */
export interface TesterDrop {
  /** What happened, in one sentence (the broker's own reason included when there is one). */
  reason: string
  /** The same sentence by key and values, for a screen that translates. */
  reasonMessage: Message
  /**
   * The broker's own words: the reason Certdesk's broker logged for dropping this client, or
   * the reason string of an MQTT 5 DISCONNECT.
   */
  brokerReason?: string
  /** Certdesk's broker's logged reason by key and values (an MQTT 5 reason string has none). */
  brokerReasonMessage?: Message
  /** MQTT 5: the reason code of the DISCONNECT the broker sent before closing. */
  reasonCode?: number
}

/** What a tester session tells the screens; every event names its session. */
export type TesterEvent =
  | { type: 'tester-messages'; sessionId: string; messages: TesterMessage[] }
  | { type: 'tester-state'; sessionId: string; state: 'connected' }
  | ({ type: 'tester-state'; sessionId: string; state: 'disconnected' } & Partial<TesterDrop>)
