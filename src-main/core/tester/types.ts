// Types only, no Node imports: the renderer shows these.

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
}

/** One MQTT message seen by a tester session, either way. The payload travels as base64. */
export interface TesterMessage {
  time: string
  direction: 'in' | 'out'
  topic: string
  qos: 0 | 1 | 2
  retain: boolean
  payloadBase64: string
}

export type TesterEvent =
  | { type: 'tester-messages'; sessionId: string; messages: TesterMessage[] }
  | { type: 'tester-state'; sessionId: string; state: 'connected' | 'disconnected'; reason?: string }
