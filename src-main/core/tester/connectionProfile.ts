// A connection profile: what the tester needs to open one MQTT connection. Plain data, so it
// can be saved (without secrets) and shown; `toMqttOptions` is the one place that turns it into
// mqtt.js options.
import { existsSync, readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import type { IClientOptions } from 'mqtt'
import { checkTopicName, encodePayload, mqtt5Required, setFields, toMqttUserProperties } from './messageFields'
import type { ConnectProperties, TesterWill } from './types'

/** Where operating systems keep their trusted CA bundle (Debian/Ubuntu, RHEL/Fedora, macOS). */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem']

/**
 * The system's trusted CAs: the OS bundle where there is one, else Node's own list (Windows).
 * Read once: it does not change while the app runs.
 */
let systemCas: string[] | undefined
function systemCertificateAuthorities(): string[] {
  if (!systemCas) {
    const bundle = SYSTEM_BUNDLES.find((path) => existsSync(path))
    systemCas = bundle ? [readFileSync(bundle, 'utf8')] : [...rootCertificates]
  }
  return systemCas
}

interface ServerVerification {
  /** 'pem': trust the given CA certificates; 'system': the OS store; 'off': no verification. */
  mode: 'pem' | 'system' | 'off'
  caPem?: string
  /** Name to send as SNI and check the server certificate against, if not the host. */
  serverName?: string
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'
  alpnProtocols?: string[]
}

interface ClientAuthentication {
  mode: 'none' | 'pem' | 'pkcs12'
  certificatePem?: string
  privateKeyPem?: string
  pkcs12?: Buffer
  /** Passphrase of an encrypted key or of the PKCS#12 file. */
  passphrase?: string
}

export interface ConnectionProfile {
  host: string
  port: number
  clientId: string
  username?: string
  password?: string
  protocolVersion: 4 | 5
  keepalive: number
  clean: boolean
  /** Published by the broker for this client when the connection drops without a DISCONNECT. */
  will?: TesterWill
  /** MQTT 5 CONNECT properties: with protocolVersion 5 only. */
  connectProperties?: ConnectProperties
  tls: { verification: ServerVerification; client: ClientAuthentication }
  connectTimeoutMs: number
}

/** The will as mqtt.js sends it in CONNECT. */
function willOptions(will: TesterWill): NonNullable<IClientOptions['will']> {
  return {
    topic: checkTopicName(will.topic, 'will topic'),
    payload: encodePayload(will.payload, will.encoding),
    qos: will.qos,
    retain: will.retain,
  }
}

/** The CONNECT properties as mqtt.js sends them; undefined when none is set. */
function connectPropertyOptions(profile: ConnectionProfile): IClientOptions['properties'] {
  const set = setFields(profile.connectProperties)
  if (!set) return undefined
  mqtt5Required(profile.protocolVersion, 'CONNECT')
  return {
    ...(set.sessionExpiryInterval !== undefined ? { sessionExpiryInterval: set.sessionExpiryInterval } : {}),
    ...(set.receiveMaximum !== undefined ? { receiveMaximum: set.receiveMaximum } : {}),
    ...(set.userProperties ? { userProperties: toMqttUserProperties(set.userProperties) } : {}),
  }
}

/**
 * The profile as mqtt.js options. Throws a CertdeskError for what no broker should be sent: MQTT 5
 * properties on a 3.1.1 connection, a will payload that is not in its encoding, a wildcard topic.
 */
export function toMqttOptions(profile: ConnectionProfile): IClientOptions {
  const { verification, client } = profile.tls
  const properties = connectPropertyOptions(profile)
  return {
    protocol: 'mqtts',
    host: profile.host,
    port: profile.port,
    clientId: profile.clientId,
    username: profile.username,
    password: profile.password,
    protocolVersion: profile.protocolVersion,
    keepalive: profile.keepalive,
    clean: profile.clean,
    ...(profile.will ? { will: willOptions(profile.will) } : {}),
    ...(properties ? { properties } : {}),
    // The quick test's own timer (connectTimeoutMs) fires first and names the timeout.
    connectTimeout: profile.connectTimeoutMs + 1000,
    // The tester reports a failure; it never retries behind the operator's back.
    reconnectPeriod: 0,
    rejectUnauthorized: verification.mode !== 'off',
    ...(verification.mode === 'pem' && verification.caPem ? { ca: verification.caPem } : {}),
    ...(verification.mode === 'system' ? { ca: systemCertificateAuthorities() } : {}),
    ...(verification.serverName ? { servername: verification.serverName } : {}),
    ...(verification.minVersion ? { minVersion: verification.minVersion } : {}),
    ...(verification.maxVersion ? { maxVersion: verification.maxVersion } : {}),
    ...(verification.alpnProtocols?.length ? { ALPNProtocols: verification.alpnProtocols } : {}),
    ...(client.mode === 'pem' ? { cert: client.certificatePem, key: client.privateKeyPem } : {}),
    ...(client.mode === 'pkcs12' ? { pfx: client.pkcs12 } : {}),
    ...(client.passphrase !== undefined ? { passphrase: client.passphrase } : {}),
  } as IClientOptions
}
