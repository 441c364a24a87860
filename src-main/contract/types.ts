// The one contract between the renderer and the main side. Types and plain values only (no
// Node imports): the renderer imports this file, and nothing else from src-main.
import type { BrokerStatus, ConnectionLogEntry, ListenerState, SessionInfo } from '../core/broker/types'
import type { KeyType } from '../core/pki/keyTypes'
import type { CertificateView, DeviceView, DeviceWithKey, RootCaView } from '../core/registry/views'
import type { AuditEntry, AuditVerification, VaultState, AuthType, BrokerSettings, TopicRule } from '../core/store/schema'
import type { Diagnosis, PayloadEncoding, QuickTestRequest, QuickTestResult, TesterEvent, TesterMessage } from '../core/tester/types'

export type { DeviceQuickTest, ManualQuickTest, QuickTestRequest } from '../core/tester/types'
export type { BrokerStatus, ClientEndpoints } from '../core/broker/types'
export type { AuditEntry, AuditVerification, VaultState, AuthType, BrokerSettings, CertificateView, ConnectionLogEntry, DeviceView, DeviceWithKey, Diagnosis, KeyType, ListenerState, PayloadEncoding, QuickTestResult, RootCaView, SessionInfo, TesterEvent, TesterMessage, TopicRule }
export { KEY_TYPES } from '../core/pki/keyTypes'

export interface CertificateInput {
  name: string
  enabled?: boolean
  keyType?: KeyType
  days?: number
}

export interface CertificateChanges {
  name?: string
  enabled?: boolean
}

export interface DeviceInput {
  name: string
  authType: AuthType
  deviceId?: string
  username?: string
}

export interface DeviceChanges {
  name?: string
  authType?: AuthType
}

/** The broker's topic rules in order (first match wins, no match denies); `isDefault` when none are saved. */
export interface TopicRuleSet {
  rules: TopicRule[]
  isDefault: boolean
}

/** Saved broker settings to change; the limits take effect when the broker next starts. */
export type BrokerSettingsChanges = Partial<BrokerSettings>

/** Where a file the user saved went (Electron's save dialog); `saved: false` if cancelled. */
export interface SaveResult {
  saved: boolean
  location?: string
}

/** Every operation the renderer may ask for. All answers are promises. */
/** What `changeKeyProtection` moves the vault key to. */
export type KeyProtectionTarget = { kind: 'passphrase'; passphrase: string } | { kind: 'os-keychain' } | { kind: 'keyfile' }

export interface CertdeskApi {
  getRootCa(): Promise<RootCaView>
  /** How the keys are protected and whether they are open; the app shows its unlock screen when not. */
  getVaultState(): Promise<VaultState>
  /** The unlock screen: the passphrase opens the keys for this session (and starts the broker). */
  unlockVault(passphrase: string): Promise<VaultState>
  /** Re-wraps the vault key: a new passphrase, the OS keychain (desktop app only) or a key file. */
  changeKeyProtection(target: KeyProtectionTarget): Promise<VaultState>
  listCertificates(): Promise<CertificateView[]>
  getCertificate(id: string): Promise<CertificateView>
  createCertificate(input: CertificateInput): Promise<CertificateView>
  updateCertificate(id: string, changes: CertificateChanges): Promise<CertificateView>
  deleteCertificate(id: string): Promise<CertificateView>
  bindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView>
  unbindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView>
  listDevices(): Promise<DeviceView[]>
  getDevice(id: string): Promise<DeviceView>
  /** The new device with its generated device key; later the key is read only with revealDeviceKey. */
  createDevice(input: DeviceInput): Promise<DeviceWithKey>
  updateDevice(id: string, changes: DeviceChanges): Promise<DeviceView>
  regenerateDeviceKey(id: string): Promise<DeviceWithKey>
  /** The device key (MQTT password), only when the operator asks to see or copy it. */
  revealDeviceKey(id: string): Promise<string>
  deleteDevice(id: string): Promise<DeviceView>
  /** The bundle zip, saved where the user chooses: the key goes from main to disk, not to the page. */
  saveDeviceBundle(certificateId: string): Promise<SaveResult>
  saveRootCertificate(): Promise<SaveResult>
  getBrokerStatus(): Promise<BrokerStatus>
  getConnectionLog(): Promise<ConnectionLogEntry[]>
  /** The saved broker settings (listeners, server names, limits), defaults filled in. */
  getBrokerSettings(): Promise<BrokerSettings>
  /** Changes some of them; a running broker takes new ports and limits when it next starts. */
  updateBrokerSettings(changes: BrokerSettingsChanges): Promise<BrokerSettings>
  getTopicRules(): Promise<TopicRuleSet>
  /** Replaces the rules, each checked by the core; a running broker applies them within a second. */
  updateTopicRules(rules: TopicRule[]): Promise<TopicRuleSet>
  /** Back to Certdesk's default rules. */
  resetTopicRules(): Promise<TopicRuleSet>
  /** Every change to the registry (who, what, when), newest last, and whether the chain is intact. */
  getAuditLog(): Promise<{ entries: AuditEntry[]; verification: AuditVerification }>
  /** Connect, subscribe /hello, publish {"hello": "world"}, receive it; diagnose a failure. */
  runQuickTest(request: QuickTestRequest): Promise<QuickTestResult>
  /** Opens a tester session in the main process; a failure comes back diagnosed. */
  testerConnect(request: QuickTestRequest): Promise<{ sessionId?: string; diagnosis?: Diagnosis }>
  testerDisconnect(sessionId: string): Promise<void>
  testerSubscribe(sessionId: string, topic: string, qos: 0 | 1 | 2): Promise<void>
  testerUnsubscribe(sessionId: string, topic: string): Promise<void>
  testerPublish(sessionId: string, message: TesterPublish): Promise<void>
  /** Reads a bundle zip the user chose: `common_certs/root_ca.crt`, `common.crt`, `common.key`. */
  readBundle(zipBase64: string): Promise<{ caPem: string; certificatePem: string; privateKeyPem: string }>
  listTesterProfiles(): Promise<SavedTesterProfile[]>
  /** Saved without secrets: passwords, keys and passphrases are stripped before writing. */
  saveTesterProfile(name: string, request: QuickTestRequest): Promise<SavedTesterProfile>
  deleteTesterProfile(id: string): Promise<SavedTesterProfile>
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

export interface TesterPublish {
  topic: string
  payload: string
  encoding: PayloadEncoding
  qos: 0 | 1 | 2
  retain: boolean
}

export type OperationName = keyof CertdeskApi

/** The operation names, in one list the preload and both servers iterate. */
export const OPERATIONS = [
  'getRootCa',
  'getVaultState',
  'unlockVault',
  'changeKeyProtection',
  'listCertificates',
  'getCertificate',
  'createCertificate',
  'updateCertificate',
  'deleteCertificate',
  'bindDevices',
  'unbindDevices',
  'listDevices',
  'getDevice',
  'createDevice',
  'updateDevice',
  'regenerateDeviceKey',
  'revealDeviceKey',
  'deleteDevice',
  'saveDeviceBundle',
  'saveRootCertificate',
  'getBrokerStatus',
  'getConnectionLog',
  'getBrokerSettings',
  'updateBrokerSettings',
  'getTopicRules',
  'updateTopicRules',
  'resetTopicRules',
  'getAuditLog',
  'runQuickTest',
  'testerConnect',
  'testerDisconnect',
  'testerSubscribe',
  'testerUnsubscribe',
  'testerPublish',
  'readBundle',
  'listTesterProfiles',
  'saveTesterProfile',
  'deleteTesterProfile',
] as const satisfies readonly OperationName[]

/** Every answer travels wrapped, so an error arrives as one plain sentence on any transport. */
export type Envelope<T = unknown> = { ok: true; value: T } | { ok: false; error: string }

/** What the main side tells the renderer without being asked. */
export type CertdeskEvent =
  | { type: 'registry' }
  | { type: 'broker'; status: BrokerStatus }
  | { type: 'connection'; entry: ConnectionLogEntry }
  | TesterEvent

export const IPC_CHANNEL_PREFIX = 'certdesk:'
export const IPC_EVENT_CHANNEL = 'certdesk:event'
