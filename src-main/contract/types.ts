// The one contract between the renderer and the main side. Types and plain values only (no
// Node imports): the renderer imports this file, and nothing else from src-main.
import type { z } from 'zod'
import type { CertdeskErrorCode, ErrorParams } from '../core/errors'
import type { MessageKey } from '../core/messages'
import type { BrokerStatus, ConnectionLogEntry, ListenerState, SessionInfo } from '../core/broker/types'
import type { TopicRuleSet } from '../core/broker/settings'
import type { BundleContents } from '../core/bundles/deviceBundle'
import type { BrokerExportOptions, BrokerTarget } from '../core/brokerExport/types'
import type { CertificateExportOptions, ExportFormat } from '../core/bundles/certificateExports'
import type { KeyType } from '../core/pki/keyTypes'
import type {
  CertificateRequestInput,
  CertificateUpdate,
  DeviceCertificateInput,
  RenewOptions,
  SignedRequest,
} from '../core/registry/certificates'
import type { ProfileInput, ProfileUpdate, ProfileView } from '../core/registry/profiles'
import type { ProvisioningProblem } from '../core/provisioning/input'
import type { PlannedRow, ProvisioningOptions, ProvisioningPlan } from '../core/provisioning/plan'
import type { ProvisionedRow, ProvisioningProgress } from '../core/provisioning/provision'
import type { RootCaOptions } from '../core/registry/rootCa'
import type { DeviceInput, DeviceUpdate } from '../core/registry/devices'
import type { CertificateView, DeviceView, DeviceWithKey, RootCaView } from '../core/registry/views'
import type {
  AuditEntry,
  AuditLog,
  AuditVerification,
  VaultState,
  AuthType,
  BrokerSettings,
  RevocationReason,
  TopicRule,
} from '../core/store/schema'
import type {
  Diagnosis,
  PayloadEncoding,
  QuickTestRequest,
  QuickTestResult,
  TesterEvent,
  TesterMessage,
  TesterPublish,
} from '../core/tester/types'
import type { ARGUMENTS, keyProtectionTarget } from './schemas'
import { DEFAULT_KEY_TYPE } from '../core/pki/keyTypes'
import { CERTIFICATE_PROFILES, DEFAULT_ROOT_CA_COMMON_NAME } from '../core/pki/profiles'

export type {
  ConnectProperties,
  DeviceQuickTest,
  ManualQuickTest,
  MessageProperties,
  QuickTestRequest,
  TesterDrop,
  TesterWill,
  UserProperty,
} from '../core/tester/types'
export type { BrokerStatus, ClientEndpoints } from '../core/broker/types'
export type { PlannedRow, ProvisionedRow, ProvisioningOptions, ProvisioningPlan, ProvisioningProblem, ProvisioningProgress }
export { MAX_PROVISIONING_ROWS, PROVISIONING_COLUMNS } from '../core/provisioning/columns'
export { BROKER_TARGETS, BROKER_TARGET_NAMES, DEFAULT_INSTALL_DIRS } from '../core/brokerExport/types'
export type {
  BrokerExportOptions,
  BrokerTarget,
  ErrorParams,
  RevocationReason,
  AuditEntry,
  AuditLog,
  AuditVerification,
  AuthType,
  BrokerSettings,
  BundleContents,
  CertificateUpdate,
  CertificateView,
  ConnectionLogEntry,
  DeviceCertificateInput,
  CertificateRequestInput,
  RenewOptions,
  SignedRequest,
  ProfileInput,
  ProfileUpdate,
  ProfileView,
  DeviceInput,
  DeviceUpdate,
  DeviceView,
  DeviceWithKey,
  Diagnosis,
  KeyType,
  ListenerState,
  PayloadEncoding,
  QuickTestResult,
  RootCaView,
  SessionInfo,
  TesterEvent,
  TesterMessage,
  TesterPublish,
  TopicRule,
  TopicRuleSet,
  VaultState,
}
export { KEY_TYPES } from '../core/pki/keyTypes'
export { REVOCATION_REASON_CODES } from '../core/store/schema'
export type { CertificateExportOptions, ExportFormat }
// The expiry rule the CLI uses too (`cert list --expiring-within`): one window for every screen.
export {
  CA_EXPIRY_WARNING_DAYS,
  EXPIRING_WITHIN_DAYS,
  daysLeft,
  expiryState,
  expirySummary,
  lifecycleStates,
} from '../core/registry/expiry'
export type { ExpiryState, ExpirySummary, LifecycleState } from '../core/registry/expiry'

/** What the first-run screen asks for: the core's own root CA options, less what only a door sets (keychain, actor). */
export type RootCaSetup = Pick<RootCaOptions, 'keyType' | 'commonName' | 'days' | 'passphrase'>
/**
 * What the first-run screen's "Import an existing CA" hands over: the CA certificate (its chain
 * after it) and private key as PEM text, or a PKCS#12 file as base64 (JSON carries no bytes),
 * each with the passphrase that opens it; `passphrase` protects the new vault as on `initialiseRootCa`.
 */
export type RootCaImportSetup =
  | { kind: 'pem'; certificatePem: string; privateKeyPem: string; keyPassphrase?: string; passphrase?: string }
  | { kind: 'pkcs12'; pkcs12Base64: string; pkcs12Passphrase?: string; passphrase?: string }
/** The root CA the core makes when the first-run screen is left as it is (the same as `ca init`). */
export const ROOT_CA_DEFAULTS = {
  keyType: DEFAULT_KEY_TYPE,
  commonName: DEFAULT_ROOT_CA_COMMON_NAME,
  days: CERTIFICATE_PROFILES.root.defaultDays,
  maxDays: CERTIFICATE_PROFILES.root.maxDays,
} as const
// The catalog of the core's sentences: the English the page shows, and the keys it translates.
export { MESSAGES, MESSAGE_CONSTANTS } from '../core/messages'
export type { Message, MessageCatalog, MessageKey } from '../core/messages'

/** Where a file the user saved went (Electron's save dialog); `saved: false` if cancelled. */
export interface SaveResult {
  saved: boolean
  location?: string
}

/** `provisionDevices`' options: the preview's, and whether the token devices' keys go in the result. */
export interface ProvisioningRequest extends ProvisioningOptions {
  /** Adds `device-keys.csv` (the new token devices' MQTT passwords) to the result zip. */
  includeDeviceKeys?: boolean
}

/**
 * What a provisioning run came to: the registry is written (all of it) whatever `saved` says;
 * `saved`/`location` tell where the result zip went (the save dialog, or in browser mode a
 * one-time download link in `location` that the page follows).
 */
export interface ProvisioningOutcome extends SaveResult {
  counts: ProvisioningPlan['counts']
  rows: ProvisionedRow[]
}

/** What `changeKeyProtection` moves the vault key to. */
export type KeyProtectionTarget = z.infer<typeof keyProtectionTarget>

/**
 * Every operation the renderer may ask for; all answers are promises. Requests are the core's own
 * types (or, for what only a front door does, z.infer of the schema), and contract/schemas.ts must
 * match these parameters exactly. An operation the workspace serves as is has the workspace
 * method's name, so the dispatcher forwards it without a hand-written line.
 */
export interface CertdeskApi {
  getRootCa(): Promise<RootCaView>
  /**
   * First run: creates the data folder's root CA. A door on a folder without one answers every
   * other operation with NOT_INITIALISED until this succeeds; afterwards this is a CONFLICT.
   */
  initialiseRootCa(setup: RootCaSetup): Promise<RootCaView>
  /** First run: creates the data folder around an existing CA (`ca import`); afterwards a CONFLICT. */
  importRootCa(setup: RootCaImportSetup): Promise<RootCaView>
  /** How the keys are protected and whether they are open; the app shows its unlock screen when not. */
  getVaultState(): Promise<VaultState>
  /** The unlock screen: the passphrase opens the keys for this session (and starts the broker). */
  unlockVault(passphrase: string): Promise<VaultState>
  /** Re-wraps the vault key: a new passphrase, the OS keychain (desktop app only) or a key file. */
  changeKeyProtection(target: KeyProtectionTarget): Promise<VaultState>
  listCertificates(): Promise<CertificateView[]>
  getCertificate(id: string): Promise<CertificateView>
  issueDeviceCertificate(input: DeviceCertificateInput): Promise<CertificateView>
  updateCertificate(id: string, changes: CertificateUpdate): Promise<CertificateView>
  deleteCertificate(id: string): Promise<CertificateView>
  /** Final: the certificate stays in the registry, revoked with the RFC 5280 reason. */
  revokeCertificate(id: string, reason: RevocationReason): Promise<CertificateView>
  /** A new certificate (new serial, a new key by default) bound where the old one is. */
  renewCertificate(id: string, options: RenewOptions): Promise<CertificateView>
  /** Signs a device's own PKCS#10 request (PEM); no private key is held for the certificate. */
  signCertificateRequest(input: CertificateRequestInput): Promise<SignedRequest>
  listProfiles(): Promise<ProfileView[]>
  getProfile(name: string): Promise<ProfileView>
  createProfile(input: ProfileInput): Promise<ProfileView>
  updateProfile(name: string, changes: ProfileUpdate): Promise<ProfileView>
  deleteProfile(name: string): Promise<ProfileView>
  bindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView>
  unbindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView>
  listDevices(): Promise<DeviceView[]>
  getDevice(id: string): Promise<DeviceView>
  /** The new device with its generated device key; later the key is read only with revealDeviceKey. */
  createDevice(input: DeviceInput): Promise<DeviceWithKey>
  updateDevice(id: string, changes: DeviceUpdate): Promise<DeviceView>
  regenerateDeviceKey(id: string): Promise<DeviceWithKey>
  /** The device key (MQTT password), only when the operator asks to see or copy it. */
  revealDeviceKey(id: string): Promise<string>
  deleteDevice(id: string): Promise<DeviceView>
  /** The bundle zip, saved where the user chooses: the key goes from main to disk, not to the page. */
  saveDeviceBundle(certificateId: string): Promise<SaveResult>
  saveRootCertificate(): Promise<SaveResult>
  /**
   * One certificate in one format (the CLI's `cert export`), saved where the user chooses like the
   * bundle. Passphrases travel to the main side only; a key leaves only as the file asked for.
   */
  saveCertificateExport(certificateId: string, format: ExportFormat, options: CertificateExportOptions): Promise<SaveResult>
  /** A new CRL (PEM, signed by the CA, next update in `days`), saved like the root certificate; uses up a CRL number. */
  saveCrl(days: number): Promise<SaveResult>
  /** Sets (a URL) or clears (null) the CRL distribution point written into device certificates issued from now on. */
  setCrlDistributionPoint(url: string | null): Promise<RootCaView>
  getBrokerStatus(): Promise<BrokerStatus>
  getConnectionLog(): Promise<ConnectionLogEntry[]>
  /** The saved broker settings (listeners, server names, limits), defaults filled in. */
  getBrokerSettings(): Promise<BrokerSettings>
  /** Changes some of them; a running broker takes new ports and limits when it next starts. */
  updateBrokerSettings(changes: Partial<BrokerSettings>): Promise<BrokerSettings>
  getTopicRules(): Promise<TopicRuleSet>
  /** Replaces the rules, each checked by the core; a running broker applies them within a second. */
  updateTopicRules(rules: TopicRule[]): Promise<TopicRuleSet>
  /** Back to Certdesk's default rules. */
  resetTopicRules(): Promise<TopicRuleSet>
  /** Every change to the registry (who, what, when), newest last, and whether the chain is intact. */
  getAuditLog(): Promise<AuditLog>
  /** Connect, subscribe /hello, publish {"hello": "world"}, receive it; diagnose a failure. */
  runQuickTest(request: QuickTestRequest): Promise<QuickTestResult>
  /** Opens a tester session in the main process; a failure comes back diagnosed. */
  testerConnect(request: QuickTestRequest): Promise<{ sessionId?: string; diagnosis?: Diagnosis }>
  testerDisconnect(sessionId: string): Promise<void>
  testerSubscribe(sessionId: string, topic: string, qos: 0 | 1 | 2): Promise<void>
  testerUnsubscribe(sessionId: string, topic: string): Promise<void>
  testerPublish(sessionId: string, message: TesterPublish): Promise<void>
  /** Reads a bundle zip the user chose: `common_certs/root_ca.crt`, `common.crt`, `common.key`. */
  readBundleZip(zipBase64: string): Promise<BundleContents>
  listTesterProfiles(): Promise<SavedTesterProfile[]>
  /** Saved without secrets: passwords, keys and passphrases are stripped before writing. */
  saveTesterProfile(name: string, request: QuickTestRequest): Promise<SavedTesterProfile>
  deleteTesterProfile(id: string): Promise<SavedTesterProfile>
  /**
   * Checks a provisioning file (CSV with a header row, or JSON lines with `format: 'jsonl'`)
   * against the registry: every problem with its line (0: an option, such as an unknown
   * profile), and what each row will do. Writes nothing.
   */
  previewProvisioning(csvText: string, options: ProvisioningOptions): Promise<ProvisioningPlan>
  /**
   * Provisions the file in one all-or-nothing write, then delivers the result zip (a zip per
   * certificate device, manifest.csv, and device-keys.csv if asked) through a save dialog or a
   * download. Progress arrives as `provisioning` events; a file with problems is refused
   * (INVALID_INPUT, nothing written: preview first), a cancelled run fails with CANCELLED.
   */
  provisionDevices(csvText: string, options: ProvisioningRequest): Promise<ProvisioningOutcome>
  /** Cancels the run under way before its write (true if there was one); nothing is written. */
  cancelProvisioning(): Promise<boolean>
  /**
   * Offers the last run's result zip again when its save was cancelled (the registry holds the
   * devices either way); held in the main process until saved. NOT_FOUND when there is none.
   */
  saveProvisioningResult(): Promise<SaveResult>
  /**
   * `certdesk export broker` from the screens: the files for a production broker as one zip
   * (certdesk-<target>/…), saved where the user chooses (it holds the broker's key and password
   * hashes). Makes a CRL (a CRL number) and, if need be, the broker's certificate for `hosts`.
   */
  saveBrokerExport(target: BrokerTarget, options: BrokerExportOptions): Promise<SaveResult>
}

/**
 * A saved tester profile as the page sees it, listed field by field (a new stored field stays in
 * the store). The request comes back without its secrets: the page asks for them again.
 */
export interface SavedTesterProfile {
  id: string
  name: string
  request: QuickTestRequest
  createdAt: string
}

export type OperationName = keyof CertdeskApi

/** Operations the core's Workspace serves as they are, under the same name: the dispatcher forwards them. */
export const WORKSPACE_OPERATIONS = [
  'getRootCa',
  'listCertificates',
  'getCertificate',
  'issueDeviceCertificate',
  'updateCertificate',
  'deleteCertificate',
  'revokeCertificate',
  'renewCertificate',
  'signCertificateRequest',
  'listProfiles',
  'getProfile',
  'createProfile',
  'updateProfile',
  'deleteProfile',
  'bindDevices',
  'unbindDevices',
  'listDevices',
  'getDevice',
  'createDevice',
  'updateDevice',
  'regenerateDeviceKey',
  'revealDeviceKey',
  'deleteDevice',
  'getBrokerSettings',
  'updateBrokerSettings',
  'getTopicRules',
  'updateTopicRules',
  'resetTopicRules',
  'getAuditLog',
  'setCrlDistributionPoint',
] as const satisfies readonly OperationName[]

/** Operations that need what only a front door has: the keychain, a save dialog, the broker, tester sessions. */
export const HOST_OPERATIONS = [
  'getVaultState',
  'unlockVault',
  'changeKeyProtection',
  'saveDeviceBundle',
  'saveRootCertificate',
  'saveCertificateExport',
  'saveCrl',
  'initialiseRootCa',
  'importRootCa',
  'getBrokerStatus',
  'getConnectionLog',
  'runQuickTest',
  'testerConnect',
  'testerDisconnect',
  'testerSubscribe',
  'testerUnsubscribe',
  'testerPublish',
  'readBundleZip',
  'listTesterProfiles',
  'saveTesterProfile',
  'deleteTesterProfile',
  'previewProvisioning',
  'provisionDevices',
  'cancelProvisioning',
  'saveProvisioningResult',
  'saveBrokerExport',
] as const satisfies readonly OperationName[]

/** The operation names, in one list the preload and both servers iterate. */
export const OPERATIONS = [...WORKSPACE_OPERATIONS, ...HOST_OPERATIONS] as const
// A type error here names an operation of CertdeskApi that neither list holds.
export const EVERY_OPERATION_LISTED: Exclude<OperationName, (typeof OPERATIONS)[number]> extends never
  ? true
  : Exclude<OperationName, (typeof OPERATIONS)[number]> = true

/**
 * Why a call failed: the core's own codes, and those of the door itself (a malformed request, an
 * unknown operation, a page that is not signed in, a bug).
 */
export type ErrorCode =
  | CertdeskErrorCode
  | 'MALFORMED_REQUEST'
  | 'UNKNOWN_OPERATION'
  | 'NOT_SIGNED_IN'
  | 'FORBIDDEN'
  | 'UNREACHABLE'
  | 'INTERNAL'

/**
 * A failed call: one English sentence, and its code and values for a screen that translates.
 * `messageKey` names the sentence in the core's catalog (core/messages.ts), when it is one of the
 * catalog's: a screen words that key with `params` in its language.
 */
export interface Failure {
  ok: false
  error: string
  code: ErrorCode
  params?: ErrorParams
  messageKey?: MessageKey
}

/** Every answer travels wrapped, so an error arrives as one plain sentence on any transport. */
export type Envelope<T = unknown> = { ok: true; value: T } | Failure

/** A failure envelope (a plain value: the page builds them too). */
export function failure(code: ErrorCode, error: string, params?: ErrorParams, messageKey?: MessageKey): Failure {
  return {
    ok: false,
    error,
    code,
    ...(params === undefined ? {} : { params }),
    ...(messageKey === undefined ? {} : { messageKey }),
  }
}

/** What the main side tells the renderer without being asked. */
export type CertdeskEvent =
  | { type: 'registry' }
  | { type: 'broker'; status: BrokerStatus }
  | { type: 'connection'; entry: ConnectionLogEntry }
  /** A provisioning run's progress (at most about ten a second, and every change of phase). */
  | ({ type: 'provisioning' } & ProvisioningProgress)
  | TesterEvent

export const IPC_CHANNEL_PREFIX = 'certdesk:'
export const IPC_EVENT_CHANNEL = 'certdesk:event'

/** True only when A and B are the same type (not merely assignable: an extra optional field differs). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
/** The operations whose schema and declared parameters differ; `never` when they all agree. */
type Drifted = {
  [K in OperationName]: Same<z.infer<(typeof ARGUMENTS)[K]>, Parameters<CertdeskApi[K]>> extends true ? never : K
}[OperationName]
// A type error here names the operation whose schema no longer matches its declaration.
export const SCHEMAS_MATCH_DECLARATIONS: [Drifted] extends [never] ? true : Drifted = true
