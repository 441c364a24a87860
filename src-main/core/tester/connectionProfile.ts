// A connection profile: what the tester needs to open one MQTT connection. Plain data, so it
// can be saved (without secrets) and shown; `toMqttOptions` is the one place that turns it into
// mqtt.js options.
import { existsSync, readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import type { IClientOptions } from 'mqtt'

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
  tls: { verification: ServerVerification; client: ClientAuthentication }
  connectTimeoutMs: number
}

export function toMqttOptions(profile: ConnectionProfile): IClientOptions {
  const { verification, client } = profile.tls
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
