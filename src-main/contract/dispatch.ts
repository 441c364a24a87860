import { z } from 'zod'
import { CertdeskError, isCertdeskError } from '../core/errors'
import { portableFileName } from '../core/fileNames'
import type { KeyProtector } from '../core/store/vault'
import { KEY_TYPES } from '../core/pki/keyTypes'
import type { Workspace } from '../core/workspace'
import { readBundleZip } from '../core/bundles/deviceBundle'
import { profileForRequest } from '../core/tester/profileSources'
import { runQuickTest } from '../core/tester/quickTest'
import { TesterSessions } from '../core/tester/sessions'
import type { BrokerStatus, CertdeskApi, CertdeskEvent, ConnectionLogEntry, Envelope, OperationName, QuickTestRequest, SaveResult, SavedTesterProfile, TopicRuleSet, VaultState } from './types'
import { OPERATIONS } from './types'

/** What only a front door can do: show a save dialog (Electron) and report the broker. */
export interface FrontDoor {
  saveFile(suggestedName: string, data: Buffer | string, mode: number): Promise<SaveResult>
  brokerStatus(): BrokerStatus
  connectionLog(): Promise<ConnectionLogEntry[]>
  /** Tells the page something it did not ask for (tester messages, say). */
  emit(event: CertdeskEvent): void
  /** The OS keychain, where this door has one (the desktop app). */
  keychain?: KeyProtector
  /** The vault was opened with this passphrase: start what waited for it (the broker). */
  onUnlocked?(passphrase: string): Promise<void>
}

const id = z.string().min(1).max(200)
const name = z.string().max(1000)
const authType = z.enum(['token', 'cert'])
const deviceIds = z.array(id).min(1).max(10_000)
const port = z.number().int().min(1).max(65_535)
const host = z.string().min(1).max(253)
const pem = z.string().max(200_000)
const topic = z.string().min(1).max(65_535)
const qos = z.union([z.literal(0), z.literal(1), z.literal(2)])
// Shapes only: the core checks each filter, placeholder and the number of rules, in its own words.
const topicRule = z.strictObject({
  action: z.enum(['publish', 'subscribe', 'all']),
  topic: z.string().max(65_535),
  permission: z.enum(['allow', 'deny']),
})
// Likewise the core says which address, port or limit is out of range.
const brokerSettingsChanges = z.strictObject({
  host: z.string().max(253).optional(),
  oneWayPort: z.number().int().optional(),
  mutualPort: z.number().int().optional(),
  extraNames: z.array(z.string().max(253)).max(100).optional(),
  maxPacketBytes: z.number().int().optional(),
  maxConnections: z.number().int().optional(),
  connectRatePerAddress: z.number().int().optional(),
})
const deviceQuickTest = z.strictObject({ kind: z.literal('device'), deviceId: id, port: port.optional(), host: host.optional(), certificateId: id.optional() })
const manualClient = z.strictObject({
  mode: z.enum(['none', 'certdesk', 'pem', 'pkcs12']),
  certificateId: id.optional(),
  certificatePem: pem.optional(),
  privateKeyPem: pem.optional(),
  pkcs12Base64: z.string().max(400_000).optional(),
  passphrase: z.string().max(1024).optional(),
})
const manualQuickTest = z.strictObject({
  kind: z.literal('manual'),
  host,
  port,
  clientId: z.string().min(1).max(65_535),
  username: z.string().max(65_535).optional(),
  password: z.string().max(65_535).optional(),
  protocolVersion: z.union([z.literal(4), z.literal(5)]),
  keepalive: z.number().int().min(0).max(65_535).optional(),
  clean: z.boolean().optional(),
  verification: z.strictObject({
    mode: z.enum(['certdesk', 'pem', 'system', 'off']),
    caPem: pem.optional(),
    serverName: host.optional(),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
    alpnProtocols: z.array(z.string().min(1).max(255)).max(8).optional(),
  }),
  client: manualClient,
})
const quickTestRequest = z.discriminatedUnion('kind', [deviceQuickTest, manualQuickTest]) satisfies z.ZodType<QuickTestRequest>

/**
 * A saved tester profile on its way out: the request schema above less the secrets the core
 * strips before writing (SECRET_FIELDS in core/tester/savedTesterProfiles). Still strict, so a
 * stored request holding a secret or a field this version does not know fails to parse.
 */
const savedTesterProfile = z.object({
  id,
  name,
  request: z.discriminatedUnion('kind', [
    deviceQuickTest,
    manualQuickTest.omit({ password: true }).extend({ client: manualClient.omit({ privateKeyPem: true, passphrase: true, pkcs12Base64: true }) }),
  ]),
  createdAt: z.string(),
}) satisfies z.ZodType<SavedTesterProfile>

/** Run-time shapes of each operation's arguments: nothing unchecked reaches the core. */
const ARGUMENTS = {
  getRootCa: z.tuple([]),
  getVaultState: z.tuple([]),
  unlockVault: z.tuple([z.string().min(1).max(1024)]),
  changeKeyProtection: z.tuple([
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('passphrase'), passphrase: z.string().min(1).max(1024) }),
      z.strictObject({ kind: z.literal('os-keychain') }),
      z.strictObject({ kind: z.literal('keyfile') }),
    ]),
  ]),
  listCertificates: z.tuple([]),
  getCertificate: z.tuple([id]),
  createCertificate: z.tuple([
    z.strictObject({
      name,
      enabled: z.boolean().optional(),
      keyType: z.enum(KEY_TYPES).optional(),
      days: z.number().int().min(1).max(36_500).optional(),
    }),
  ]),
  updateCertificate: z.tuple([id, z.strictObject({ name: name.optional(), enabled: z.boolean().optional() })]),
  deleteCertificate: z.tuple([id]),
  bindDevices: z.tuple([id, deviceIds]),
  unbindDevices: z.tuple([id, deviceIds]),
  listDevices: z.tuple([]),
  getDevice: z.tuple([id]),
  createDevice: z.tuple([
    z.strictObject({ name, authType, deviceId: z.string().max(200).optional(), username: z.string().max(200).optional() }),
  ]),
  updateDevice: z.tuple([id, z.strictObject({ name: name.optional(), authType: authType.optional() })]),
  regenerateDeviceKey: z.tuple([id]),
  revealDeviceKey: z.tuple([id]),
  deleteDevice: z.tuple([id]),
  saveDeviceBundle: z.tuple([id]),
  saveRootCertificate: z.tuple([]),
  getBrokerStatus: z.tuple([]),
  getConnectionLog: z.tuple([]),
  getBrokerSettings: z.tuple([]),
  updateBrokerSettings: z.tuple([brokerSettingsChanges]),
  getTopicRules: z.tuple([]),
  updateTopicRules: z.tuple([z.array(topicRule).max(1000)]),
  resetTopicRules: z.tuple([]),
  getAuditLog: z.tuple([]),
  runQuickTest: z.tuple([quickTestRequest]),
  testerConnect: z.tuple([quickTestRequest]),
  testerDisconnect: z.tuple([z.string().uuid()]),
  testerSubscribe: z.tuple([z.string().uuid(), topic, qos]),
  testerUnsubscribe: z.tuple([z.string().uuid(), topic]),
  testerPublish: z.tuple([
    z.string().uuid(),
    z.strictObject({ topic, payload: z.string().max(1_000_000), encoding: z.enum(['text', 'json', 'hex', 'base64']), qos, retain: z.boolean() }),
  ]),
  readBundle: z.tuple([z.string().min(1).max(2_000_000)]),
  listTesterProfiles: z.tuple([]),
  saveTesterProfile: z.tuple([name, quickTestRequest]),
  deleteTesterProfile: z.tuple([id]),
} satisfies Record<OperationName, z.ZodType<unknown[]>>

/** The main side's implementation of the contract, over one workspace. */
export function implementApi(workspace: Workspace, frontDoor: FrontDoor): CertdeskApi & { close(): Promise<void> } {
  const withKeychain = (state: VaultState): VaultState => ({ ...state, keychainAvailable: frontDoor.keychain !== undefined })
  const sessions = new TesterSessions((event) => frontDoor.emit(event))
  // Default when the folder saves none, as `certdesk broker acl` says.
  const topicRuleSet = (): TopicRuleSet => workspace.topicRuleSet()
  return {
    getRootCa: async () => workspace.rootCa(),
    getVaultState: async () => withKeychain(await workspace.vaultState()),
    unlockVault: async (passphrase) => {
      const state = await workspace.unlockWithPassphrase(passphrase)
      await frontDoor.onUnlocked?.(passphrase)
      return withKeychain(state)
    },
    changeKeyProtection: async (target) => {
      if (target.kind === 'os-keychain' && !frontDoor.keychain) {
        throw new CertdeskError('INVALID_INPUT', 'The OS keychain is reached only from the desktop app; here, choose a passphrase or a key file.')
      }
      const protection = target.kind === 'passphrase' ? { passphrase: target.passphrase } : target.kind === 'os-keychain' ? { keychain: frontDoor.keychain } : {}
      return withKeychain(await workspace.changeKeyProtection(protection))
    },
    listCertificates: async () => workspace.listCertificates(),
    getCertificate: async (certificateId) => workspace.getCertificate(certificateId),
    createCertificate: (input) => workspace.issueDeviceCertificate(input),
    updateCertificate: (certificateId, changes) => workspace.updateCertificate(certificateId, changes),
    deleteCertificate: (certificateId) => workspace.deleteCertificate(certificateId),
    bindDevices: (certificateId, ids) => workspace.bindDevices(certificateId, ids),
    unbindDevices: (certificateId, ids) => workspace.unbindDevices(certificateId, ids),
    listDevices: async () => workspace.listDevices(),
    getDevice: async (deviceId) => workspace.getDevice(deviceId),
    createDevice: (input) => workspace.createDevice(input),
    updateDevice: (deviceId, changes) => workspace.updateDevice(deviceId, changes),
    regenerateDeviceKey: (deviceId) => workspace.regenerateDeviceKey(deviceId),
    revealDeviceKey: (deviceId) => workspace.revealDeviceKey(deviceId),
    deleteDevice: (deviceId) => workspace.deleteDevice(deviceId),
    saveDeviceBundle: async (certificateId) => {
      const certificate = workspace.getCertificate(certificateId)
      let result: SaveResult = { saved: false }
      await workspace.exportDeviceBundle(certificateId, async (zip) => {
        result = await frontDoor.saveFile(`${portableFileName(certificate.name)}.zip`, zip, 0o600)
        return result.saved
      })
      return result
    },
    saveRootCertificate: async () => frontDoor.saveFile('root_ca.crt', await workspace.rootCertificatePem(), 0o644),
    getBrokerStatus: async () => frontDoor.brokerStatus(),
    getConnectionLog: () => frontDoor.connectionLog(),
    getBrokerSettings: async () => workspace.brokerSettings(),
    updateBrokerSettings: (changes) => workspace.updateBrokerSettings(changes),
    getTopicRules: async () => topicRuleSet(),
    updateTopicRules: async (rules) => {
      await workspace.updateTopicRules(rules)
      return topicRuleSet()
    },
    resetTopicRules: async () => {
      await workspace.resetTopicRules()
      return topicRuleSet()
    },
    getAuditLog: async () => workspace.auditLog(),
    runQuickTest: async (request) => runQuickTest(await profileForRequest(workspace, request), { certdeskDataDir: workspace.dataDir }),
    testerConnect: async (request) => sessions.connect(await profileForRequest(workspace, request)),
    testerDisconnect: (sessionId) => sessions.disconnect(sessionId),
    testerSubscribe: (sessionId, topicName, level) => sessions.subscribe(sessionId, topicName, level),
    testerUnsubscribe: (sessionId, topicName) => sessions.unsubscribe(sessionId, topicName),
    testerPublish: (sessionId, message) => sessions.publish(sessionId, message),
    readBundle: async (zipBase64) => readBundleZip(Buffer.from(zipBase64, 'base64')),
    // The store keeps saved requests opaque; they are parsed on the way out. One that no longer
    // parses (written by another version, or edited by hand) is left out of the list rather than
    // failing it: the others stay usable, and the stored record is left as it was.
    listTesterProfiles: async () =>
      workspace.listTesterProfiles().flatMap((record) => {
        const parsed = savedTesterProfile.safeParse(record)
        return parsed.success ? [parsed.data] : []
      }),
    saveTesterProfile: async (profileName, request) => savedTesterProfile.parse(await workspace.saveTesterProfile(profileName, { ...request })),
    deleteTesterProfile: async (profileId) => savedTesterProfile.parse(await workspace.deleteTesterProfile(profileId)),
    /** Not an operation: the front door calls it on shutdown. */
    close: () => sessions.closeAll(),
  }
}

export type Dispatch = (operation: string, args: unknown) => Promise<Envelope>

/**
 * Validates an operation's name and arguments, runs it, and wraps the answer. Errors become one
 * sentence: the core's own, or a plain one for anything unexpected (never a stack trace).
 */
export function createDispatcher(api: CertdeskApi): Dispatch {
  return async (operation, args) => {
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      return { ok: false, error: `There is no operation "${String(operation).slice(0, 60)}".` }
    }
    const name = operation as OperationName
    const parsed = ARGUMENTS[name].safeParse(args)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.length ? ` (at ${issue.path.join('.')})` : ''
      return { ok: false, error: `The request to ${name} was malformed${where}: ${issue?.message ?? 'invalid'}.` }
    }
    try {
      const run = api[name] as (...values: unknown[]) => Promise<unknown>
      return { ok: true, value: await run(...(parsed.data as unknown[])) }
    } catch (error) {
      if (isCertdeskError(error)) return { ok: false, error: error.message }
      return { ok: false, error: `Something went wrong inside Certdesk (${error instanceof Error ? error.message : String(error)}).` }
    }
  }
}
