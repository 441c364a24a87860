// Types only, no Node imports: the renderer's contract is built from them.
import type { Message } from '../messages'
import type { KeyType } from '../pki/keyTypes'
import type { DeviceProfile } from '../pki/profiles'
import type { TableMap } from './tableFiles'
import type { BindingTable, CertificateTable, DeviceTable } from './tables'

/** AES-256-GCM output, base64 fields so it sits in JSON. */
export interface SealedBox {
  iv: string
  tag: string
  data: string
}

export interface ScryptParameters {
  name: 'scrypt'
  N: number
  r: number
  p: number
  salt: string
}

/** How the vault key is protected; recorded in the store so `ca show` can say it. */
export type VaultRecord =
  | { protection: 'keyfile' }
  | { protection: 'passphrase'; kdf: ScryptParameters; wrappedKey: SealedBox }
  /** Wrapped by the OS keychain through the desktop app (Electron safeStorage); base64. */
  | { protection: 'os-keychain'; keychain: string; wrappedKey: string }

export type KeyProtectionKind = VaultRecord['protection']

/** What the unlock screen and Authority show about the vault. */
export interface VaultState {
  protection: KeyProtectionKind
  /** The OS keychain's name, when it protects the key. */
  keychain?: string
  unlocked: boolean
  /** Whether this front door can wrap the key with the OS keychain (the desktop app). */
  keychainAvailable?: boolean
}

/**
 * The registry index, kept in `config.json` in electron-store's format (plain JSON through
 * `conf`). It holds metadata only: certificate PEMs and encrypted private keys live in files of
 * their own, so adding a certificate rewrites a few hundred bytes of index, not every key.
 */
export const SCHEMA_VERSION = 3
/**
 * The last schema that kept everything in `config.json`. Steps up to it are pure (`migrate`);
 * the step to 3 writes the tables' files (`RegistryStore`), keeping the file as `config.json.schema-2.bak`.
 */
export const LAST_WHOLE_SCHEMA = 2

export type AuthType = 'token' | 'cert'

/** RFC 5280 CRLReason names Certdesk offers, with their codes (5.3.1); 7 is unused, 8 removeFromCRL is not offered. */
export const REVOCATION_REASON_CODES = {
  unspecified: 0,
  keyCompromise: 1,
  caCompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const

export type RevocationReason = keyof typeof REVOCATION_REASON_CODES

/** What the index keeps of every certificate Certdesk made. */
interface IssuedCertificateFacts {
  keyType: KeyType
  /** Uppercase hex. */
  serial: string
  /** SHA-256 of the DER, colon-separated uppercase hex: what the broker matches clients by. */
  fingerprint256: string
  notBefore: string
  notAfter: string
  createdAt: string
}

export interface RootCaRecord extends IssuedCertificateFacts {
  commonName: string
  subject: string
  /** 'imported' is reserved for bringing an existing CA. */
  origin: 'generated' | 'imported'
  /** Next CRL number, for the revocation list the broker will honour. */
  crlNumber: number
  /**
   * Where relying parties fetch the CRL (an http or https URL), written as cRLDistributionPoints
   * into device certificates issued while it is set. Optional: absent in folders written before it
   * existed, which needs no schema step.
   */
  crlDistributionPoint?: string
}

export interface CertificateRecord extends IssuedCertificateFacts {
  id: string
  name: string
  /** The certificate's subject common name: a generated id, unique in the folder. */
  cn: string
  enabled: boolean
  /** 'revoked' arrives with the CRL; an issued certificate is never silently forgotten. */
  status: 'active' | 'revoked'
  revokedAt?: string
  /** Set with revokedAt: the RFC 5280 CRLReason the CRL and the broker's log name. */
  revocationReason?: RevocationReason
  updatedAt: string
  /** 'csr' is reserved for signing a device's own request: then no private key is held. */
  keyOrigin: 'generated' | 'csr'
  hasPrivateKey: boolean
  /** Set when this certificate renews another. */
  renewedFrom?: string
  /** The profile it was issued with; absent for the built-in default (and before profiles). */
  profile?: string
}

/** An operator's device-certificate profile, as `certdesk profile create` stored it. */
export interface ProfileRecord extends DeviceProfile {
  createdAt: string
  updatedAt: string
}

export interface DeviceRecord {
  id: string
  name: string
  /** The MQTT client_id. */
  deviceId: string
  /** The MQTT username; fixed at creation. */
  username: string
  /**
   * The MQTT password for one-way TLS, sealed under the vault key (it is shown to the operator,
   * so it is stored reversibly, never in the clear). A string only in a folder written before
   * keys were sealed and not yet opened with its vault unlocked.
   */
  deviceKey: SealedBox | string
  authType: AuthType
  createdAt: string
  updatedAt: string
}

export interface BindingRecord {
  certificateId: string
  /** The device's internal id (not its device ID). */
  deviceRecordId: string
  createdAt: string
}

/** The embedded broker's TLS certificate, issued by the root CA. */
export interface BrokerServerCertificateRecord extends IssuedCertificateFacts {
  /** The record file holding its PEM and sealed key (a new one per issuance). */
  recordId: string
  /** Subject alternative names, sorted: host names and IP addresses. */
  names: string[]
}

/** Where the embedded broker listens; the CLI's flags override them for one run. */
export interface BrokerSettings {
  host: string
  oneWayPort: number
  mutualPort: number
  /** Names added to the server certificate beyond localhost, loopback and the host name. */
  extraNames: string[]
  /** Largest MQTT packet (fixed header included) a connected device may send, in bytes. */
  maxPacketBytes: number
  /** Open connections, all addresses and both listeners together; more are refused at accept. */
  maxConnections: number
  /** Connections one address may open per 10-second window; more are refused at accept. */
  connectRatePerAddress: number
}

/**
 * One line of the broker's topic policy, like a mosquitto `pattern` or an EMQX acl.conf rule.
 * `topic` is an MQTT filter that may hold ${clientid} and ${username}.
 */
export interface TopicRule {
  action: 'publish' | 'subscribe' | 'all'
  topic: string
  permission: 'allow' | 'deny'
}

/** A saved tester profile. Never holds a secret: passwords, keys and passphrases are stripped. */
export interface TesterProfileRecord {
  id: string
  name: string
  /** The quick-test request as the tester screen builds it, minus secrets. */
  request: Record<string, unknown>
  createdAt: string
}

/** Who changed the registry: the front door the change came through. */
export type AuditActor = 'cli' | 'app' | 'browser' | 'core'

/** One line of `audit.jsonl`: a change, chained to the one before by its hash. */
export interface AuditEntry {
  seq: number
  time: string
  actor: AuditActor
  /** The operating-system user the process ran as. */
  user: string
  /** e.g. "certificate.issue", "device.delete", "binding.add". */
  action: string
  /** The object changed: certificate id, device ID, … */
  target: string
  detail?: Record<string, unknown>
  /** The hash of the entry before (64 zeros for the first). */
  prev: string
  /** SHA-256 over this entry's other fields. */
  hash: string
}

/** What `certdesk audit --verify` found. */
export interface AuditVerification {
  intact: boolean
  entries: number
  /** One sentence per problem found, in the order of the log. */
  problems: string[]
  /** The same problems as the catalog's sentences (core/messages.ts), when there are any. */
  problemMessages?: Message[]
}

/** The audit log, newest last, and whether its chain is intact. */
export interface AuditLog {
  entries: AuditEntry[]
  verification: AuditVerification
}

/** The last entry the audit log should end with, kept in the index so removals at the end show. */
export interface AuditHead {
  seq: number
  hash: string
}

/**
 * The index as schema 2 kept it: one file holding everything (`config.json`). Read to migrate a
 * folder written before the tables (schema 3), and as the shape `doctor` checks backups in.
 */
export interface WholeIndex extends RegistryHead {
  certificates: Record<string, CertificateRecord>
  devices: Record<string, DeviceRecord>
  bindings: BindingRecord[]
}

/** Schema 3's `config.json`: the head's fields, and where the tables' files are (`tableFiles.ts`). */
export interface HeadFile extends RegistryHead {
  tables: TableMap
}

/** What the index holds besides the three tables: small, read and written whole. */
export interface RegistryHead {
  schemaVersion: number
  vault: VaultRecord
  rootCa: RootCaRecord | null
  /** Absent until the broker first runs (optional, so no schema step is needed for it). */
  broker?: {
    /** Saved before a setting existed, it is absent: brokerSettings() fills in the defaults. */
    settings?: Partial<BrokerSettings>
    serverCertificate?: BrokerServerCertificateRecord
    /** Ordered, first match wins; absent means the default rules. */
    topicRules?: TopicRule[]
  }
  /** Absent until the first audited change. */
  audit?: AuditHead
  /** Absent until the first profile is saved. */
  testerProfiles?: Record<string, TesterProfileRecord>
  /** Device-certificate profiles by lower-case name; absent until the first is created. */
  profiles?: Record<string, ProfileRecord>
  /**
   * Set when a folder upgraded from before sealing holds device keys in the clear, until they are
   * sealed: so an open looks at one flag, not at every device.
   */
  unsealedDeviceKeys?: true
}

/**
 * The registry as the core reads and changes it: the head's fields, and the three tables behind
 * lookups (`tables.ts`), so one change reads and writes what it touches, not the whole registry.
 */
export interface StoreData extends RegistryHead {
  certificates: CertificateTable
  devices: DeviceTable
  bindings: BindingTable
}

type Migration = (data: Record<string, unknown>) => Record<string, unknown>

/**
 * Step N upgrades schema N to N + 1. Schema 1 was the first layout: certificates without a
 * status or key origin, and a CA without a CRL number.
 */
const MIGRATIONS: Record<number, Migration> = {
  1: (data) => {
    const certificates = (data.certificates ?? {}) as Record<string, Record<string, unknown>>
    for (const certificate of Object.values(certificates)) {
      certificate.status ??= 'active'
      certificate.keyOrigin ??= 'generated'
      certificate.hasPrivateKey ??= true
    }
    const rootCa = data.rootCa as Record<string, unknown> | null | undefined
    if (rootCa) {
      rootCa.origin ??= 'generated'
      rootCa.crlNumber ??= 1
    }
    return { ...data, certificates, bindings: data.bindings ?? [], devices: data.devices ?? {}, schemaVersion: 2 }
  },
}

/** Returns a whole index at schema 2 (`LAST_WHOLE_SCHEMA`), and whether anything changed. */
export function migrate(data: Record<string, unknown>): { data: WholeIndex; migrated: boolean } {
  let version = typeof data.schemaVersion === 'number' ? data.schemaVersion : 1
  let current = data
  const startVersion = version
  while (version < LAST_WHOLE_SCHEMA) {
    const step = MIGRATIONS[version]
    if (!step) throw new Error(`No migration from schema ${version}.`)
    current = step(structuredClone(current))
    version += 1
  }
  return { data: current as unknown as WholeIndex, migrated: version !== startVersion }
}
