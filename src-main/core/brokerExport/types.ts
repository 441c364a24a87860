// What an export for a production broker is made from, and what it is: plain data, so each
// target's generator is a pure function, tested without a store.
import type { TopicRule } from '../store/schema'

export const BROKER_TARGETS = ['mosquitto', 'rabbitmq', 'emqx'] as const
export type BrokerTarget = (typeof BROKER_TARGETS)[number]

/** The brokers' own names, the same in every language. */
export const BROKER_TARGET_NAMES: Record<BrokerTarget, string> = { mosquitto: 'mosquitto', rabbitmq: 'RabbitMQ', emqx: 'EMQX 5' }

/** Where each broker keeps such files by convention: the install folder when none is given. */
export const DEFAULT_INSTALL_DIRS: Record<BrokerTarget, string> = {
  mosquitto: '/etc/mosquitto/certdesk',
  rabbitmq: '/etc/rabbitmq/certdesk',
  emqx: '/etc/emqx/certs/certdesk',
}

/** A certificate bound to a certificate device, as the export needs it. */
export interface ExportedCertificate {
  name: string
  /** The subject common name (random by default; the device ID with a profile that says so). */
  cn: string
  /** Uppercase hex. */
  serial: string
  /** SHA-256, colon-separated uppercase hex. */
  fingerprint256: string
  status: 'active' | 'revoked'
  /** Disabled in Certdesk: the embedded broker refuses it although it is valid. */
  enabled: boolean
  notAfter: string
}

export interface BrokerExportInput {
  /** The CA certificate, followed by its chain for an imported intermediate (every bundle's root_ca.crt). */
  caPem: string
  /** The production broker's own TLS identity, issued by the CA for `names`, and its key. */
  server: { certificatePem: string; privateKeyPem: string; names: string[] }
  /** The CA's current revocation list. */
  crl: { pem: string; der: Buffer }
  /**
   * Token devices: one-way TLS with username and device key. The key is here in the clear only to
   * be hashed with a salt; no generator may write it.
   */
  tokenDevices: { deviceId: string; username: string; deviceKey: string }[]
  /** Certificate devices (mutual TLS) and the certificates bound to them, revoked ones included. */
  certificateDevices: { deviceId: string; username: string; certificates: ExportedCertificate[] }[]
  /** The embedded broker's topic rules, first match wins; topics may hold ${clientid} and ${username}. */
  topicRules: readonly TopicRule[]
  /** The seed's ports: one-way TLS 8883, mutual TLS 8884. */
  ports: { oneWay: number; mutual: number }
  /** The folder's broker limits (Certdesk counts connections over both listeners together). */
  limits: { maxPacketBytes: number; maxConnections: number; connectRatePerAddress: number }
  /**
   * Where the operator puts the exported folder on the broker's machine: configuration files name
   * the certificates, password and ACL files by absolute path under it. Undefined: the target's
   * usual place (e.g. /etc/mosquitto/certdesk).
   */
  installDir?: string
  /** Where salts come from; a test passes fixed bytes to compare two exports. */
  randomBytes: (size: number) => Buffer
  /**
   * Each user's stored credential in an earlier export for the same target, in that target's own
   * form (`--only-changes-since`): a token device whose key still matches it keeps it, salt and
   * all, so the two exports differ only where the fleet changed.
   */
  previousCredentials?: ReadonlyMap<string, string>
}

/** What an export was made with, written beside it so the next `--only-changes-since` keeps it. */
export const EXPORT_SETTINGS_FILE = 'certdesk-export.json'

export interface ExportSettings {
  format: 1
  target: BrokerTarget
  /** The names in the broker's certificate. */
  serverNames: string[]
  installDir: string
  ports: { oneWay: number; mutual: number }
}

/** One file of an export, relative to its folder. Secret files (keys, password hashes) are written 0600. */
export interface BrokerExportFile {
  path: string
  contents: string | Buffer
  secret: boolean
}

export type BrokerExporter = (input: BrokerExportInput) => BrokerExportFile[]

/** What the operator chooses for an export besides the target. */
export interface BrokerExportOptions {
  /** Names for the broker's certificate, beyond localhost, loopback and this host's name. */
  hosts?: string[]
  /** Where the folder goes on the broker's machine (absolute); default: the target's usual place. */
  installDir?: string
}

/**
 * The files every target gets, under these names: the CA (and chain), the broker's certificate
 * (with the chain) and key, and the CRL in PEM.
 */
export function commonFiles(input: BrokerExportInput): BrokerExportFile[] {
  return [
    { path: 'certs/ca.crt', contents: input.caPem, secret: false },
    { path: 'certs/server.crt', contents: input.server.certificatePem, secret: false },
    { path: 'certs/server.key', contents: input.server.privateKeyPem, secret: true },
    { path: 'certs/crl.pem', contents: input.crl.pem, secret: false },
  ]
}

/** Code-point order: the same on every machine and in every locale (not `localeCompare`). */
export const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The input in the order every export writes it: devices by device ID, each device's certificates
 * by serial. Salts are drawn in this order, so the same input gives the same files.
 */
export function inExportOrder(input: BrokerExportInput): BrokerExportInput {
  return {
    ...input,
    tokenDevices: [...input.tokenDevices].sort((a, b) => byCodePoint(a.deviceId, b.deviceId)),
    certificateDevices: [...input.certificateDevices]
      .sort((a, b) => byCodePoint(a.deviceId, b.deviceId))
      .map((device) => ({ ...device, certificates: [...device.certificates].sort((a, b) => byCodePoint(a.serial, b.serial)) })),
  }
}

/**
 * Token devices whose username another token device has too (Certdesk allows it; a broker's user
 * list does not): every target leaves them all out and its README names them.
 */
export function sharedTokenUsernames(input: BrokerExportInput): Set<string> {
  const seen = new Set<string>()
  const shared = new Set<string>()
  for (const device of input.tokenDevices) (seen.has(device.username) ? shared : seen).add(device.username)
  return shared
}
