import { z } from 'zod'
import { BROKER_TARGETS } from '../core/brokerExport/types'
import { KEY_TYPES } from '../core/pki/keyTypes'
import { COMMON_NAME_SOURCES, END_ENTITY_KEY_USAGES } from '../core/pki/profiles'
import { SECRET_FIELDS } from '../core/tester/types'
import { REVOCATION_REASON_CODES, type RevocationReason } from '../core/store/schema'
import { EXPORT_FORMATS } from '../core/bundles/certificateExports'
import type { OperationName, SavedTesterProfile } from './types'

// The run-time shape of every operation's arguments: nothing unchecked reaches the core. Each
// tuple must be exactly the parameters `CertdeskApi` declares (checked in contract/types.ts), so
// a field added on one side and not the other is a type error, not a silent drop or leak.

const id = z.string().min(1).max(200)
const name = z.string().max(1000)
const authType = z.enum(['token', 'cert'])
const deviceIds = z.array(id).min(1).max(10_000)
const port = z.number().int().min(1).max(65_535)
const host = z.string().min(1).max(253)
const pem = z.string().max(200_000)
const topic = z.string().min(1).max(65_535)
const qos = z.union([z.literal(0), z.literal(1), z.literal(2)])
const sessionId = z.string().uuid()
const profileName = z.string().min(1).max(200)
// Shapes only: the core judges each value (names, codes, placeholders) with its own sentence.
const profileFields = z.strictObject({
  description: z.string().max(1000).optional(),
  keyType: z.enum(KEY_TYPES).optional(),
  days: z.number().int().optional(),
  commonName: z.enum(COMMON_NAME_SOURCES).optional(),
  organization: z.string().max(1000).optional(),
  organizationalUnit: z.string().max(1000).optional(),
  country: z.string().max(100).optional(),
  subjectAltNames: z.array(z.string().max(1000)).max(100).optional(),
  keyUsage: z.array(z.enum(END_ENTITY_KEY_USAGES)).max(10).optional(),
  extendedKeyUsage: z
    .array(z.enum(['clientAuth', 'serverAuth']))
    .max(10)
    .optional(),
})
const payload = z.string().max(1_000_000)
const payloadEncoding = z.enum(['text', 'json', 'hex', 'base64'])
/** MQTT's Four Byte Integer (expiry intervals, in seconds). */
const seconds = z.number().int().min(0).max(4_294_967_295)
const mqttString = z.string().max(65_535)
const userProperties = z.array(z.strictObject({ key: mqttString, value: mqttString })).max(100)
// MQTT 5 properties: shapes and ranges here; the core refuses them on a 3.1.1 connection.
const messageProperties = z.strictObject({
  userProperties: userProperties.optional(),
  contentType: mqttString.optional(),
  messageExpiryInterval: seconds.optional(),
  responseTopic: mqttString.optional(),
  correlationData: mqttString.optional(),
})
const connectProperties = z.strictObject({
  sessionExpiryInterval: seconds.optional(),
  receiveMaximum: z.number().int().min(1).max(65_535).optional(),
  userProperties: userProperties.optional(),
})
const will = z.strictObject({ topic, payload, encoding: payloadEncoding, qos, retain: z.boolean() })

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

const deviceQuickTest = z.strictObject({
  kind: z.literal('device'),
  deviceId: id,
  port: port.optional(),
  host: host.optional(),
  certificateId: id.optional(),
})
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
  will: will.optional(),
  connectProperties: connectProperties.optional(),
  verification: z.strictObject({
    mode: z.enum(['certdesk', 'pem', 'system', 'off']),
    caPem: pem.optional(),
    serverName: host.optional(),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
    alpnProtocols: z.array(z.string().min(1).max(255)).max(8).optional(),
  }),
  client: manualClient,
})
const quickTestRequest = z.discriminatedUnion('kind', [deviceQuickTest, manualQuickTest])

export const keyProtectionTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('passphrase'), passphrase: z.string().min(1).max(1024) }),
  z.strictObject({ kind: z.literal('os-keychain') }),
  z.strictObject({ kind: z.literal('keyfile') }),
])

/** `schema` less the fields the core strips before saving a profile (one list: SECRET_FIELDS). */
function withoutSecretFields<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape, z.core.$strict>,
): z.ZodObject<z.ZodRawShape, z.core.$strict> {
  const secret: ReadonlySet<string> = new Set(SECRET_FIELDS)
  return z.strictObject(Object.fromEntries(Object.entries(schema.shape).filter(([field]) => !secret.has(field))))
}

/**
 * A saved tester profile on its way out: the request schema less the secrets the core strips.
 * Still strict, so a stored request holding a secret, or a field this version does not know,
 * fails to parse.
 */
export const savedTesterProfile: z.ZodType<SavedTesterProfile> = z.object({
  id,
  name,
  request: z.discriminatedUnion('kind', [
    deviceQuickTest,
    withoutSecretFields(manualQuickTest).extend({ client: withoutSecretFields(manualClient) }),
  ]),
  createdAt: z.string(),
}) as z.ZodType<SavedTesterProfile>

/** A provisioning file as text: 100,000 devices of ~300 characters. */
const provisioningText = z.string().max(32_000_000)
const provisioningOptions = z.strictObject({
  format: z.enum(['csv', 'jsonl']).optional(),
  profile: profileName.optional(),
  update: z.boolean().optional(),
})

export const ARGUMENTS = {
  getRootCa: z.tuple([]),
  // Shapes only: the core checks the name, the validity and the passphrase's length in its own words.
  initialiseRootCa: z.tuple([
    z.strictObject({
      keyType: z.enum(KEY_TYPES).optional(),
      commonName: name.optional(),
      days: z.number().int().optional(),
      passphrase: z.string().max(1024).optional(),
    }),
  ]),
  // Shapes and sizes only: the core reads and checks the certificate and key in its own words.
  importRootCa: z.tuple([
    z.discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('pem'),
        certificatePem: z.string().min(1).max(200_000),
        privateKeyPem: z.string().min(1).max(100_000),
        keyPassphrase: z.string().max(1024).optional(),
        passphrase: z.string().max(1024).optional(),
      }),
      z.strictObject({
        kind: z.literal('pkcs12'),
        pkcs12Base64: z.string().min(1).max(400_000),
        pkcs12Passphrase: z.string().max(1024).optional(),
        passphrase: z.string().max(1024).optional(),
      }),
    ]),
  ]),
  getVaultState: z.tuple([]),
  unlockVault: z.tuple([z.string().min(1).max(1024)]),
  changeKeyProtection: z.tuple([keyProtectionTarget]),
  listCertificates: z.tuple([]),
  getCertificate: z.tuple([id]),
  issueDeviceCertificate: z.tuple([
    z.strictObject({
      name,
      enabled: z.boolean().optional(),
      keyType: z.enum(KEY_TYPES).optional(),
      days: z.number().int().min(1).max(36_500).optional(),
      profile: profileName.optional(),
      device: id.optional(),
    }),
  ]),
  renewCertificate: z.tuple([
    id,
    z.strictObject({
      days: z.number().int().min(1).max(36_500).optional(),
      sameKey: z.boolean().optional(),
      revokeOld: z.boolean().optional(),
      name: name.optional(),
    }),
  ]),
  signCertificateRequest: z.tuple([
    z.strictObject({
      csr: pem,
      name,
      profile: profileName.optional(),
      days: z.number().int().min(1).max(36_500).optional(),
      device: id.optional(),
      enabled: z.boolean().optional(),
    }),
  ]),
  listProfiles: z.tuple([]),
  getProfile: z.tuple([profileName]),
  createProfile: z.tuple([profileFields.extend({ name: profileName })]),
  updateProfile: z.tuple([profileName, profileFields]),
  deleteProfile: z.tuple([profileName]),
  updateCertificate: z.tuple([id, z.strictObject({ name: name.optional(), enabled: z.boolean().optional() })]),
  deleteCertificate: z.tuple([id]),
  revokeCertificate: z.tuple([id, z.enum(Object.keys(REVOCATION_REASON_CODES) as [RevocationReason, ...RevocationReason[]])]),
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
  // Shapes only: the core says which format needs a passphrase and refuses a revoked certificate's key.
  saveCertificateExport: z.tuple([
    id,
    z.enum(EXPORT_FORMATS),
    z.strictObject({
      passphrase: z.string().max(1024).optional(),
      legacy: z.boolean().optional(),
      friendlyName: name.optional(),
      plainKey: z.boolean().optional(),
    }),
  ]),
  saveCrl: z.tuple([z.number().int()]),
  setCrlDistributionPoint: z.tuple([z.string().max(10_000).nullable()]),
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
  testerDisconnect: z.tuple([sessionId]),
  testerSubscribe: z.tuple([sessionId, topic, qos]),
  testerUnsubscribe: z.tuple([sessionId, topic]),
  testerPublish: z.tuple([
    sessionId,
    z.strictObject({ topic, payload, encoding: payloadEncoding, qos, retain: z.boolean(), properties: messageProperties.optional() }),
  ]),
  readBundleZip: z.tuple([z.string().min(1).max(2_000_000)]),
  listTesterProfiles: z.tuple([]),
  saveTesterProfile: z.tuple([name, quickTestRequest]),
  deleteTesterProfile: z.tuple([id]),
  previewProvisioning: z.tuple([provisioningText, provisioningOptions]),
  provisionDevices: z.tuple([provisioningText, provisioningOptions.extend({ includeDeviceKeys: z.boolean().optional() })]),
  cancelProvisioning: z.tuple([]),
  saveProvisioningResult: z.tuple([]),
  saveBrokerExport: z.tuple([
    z.enum(BROKER_TARGETS),
    z.strictObject({ hosts: z.array(z.string().min(1).max(253)).max(100).optional(), installDir: z.string().min(1).max(1024).optional() }),
  ]),
} satisfies Record<OperationName, z.ZodType<unknown[]>>
