import { z } from 'zod'
import { KEY_TYPES } from '../pki/keyTypes'
import { COMMON_NAME_SOURCES, END_ENTITY_KEY_USAGES } from '../pki/profiles'

/**
 * The shape of a current-schema index, checked whenever the file is parsed: a field of the wrong
 * type (a hand edit, a bad restore) is reported as a damaged index in one sentence instead of
 * failing later, deep inside a command, with a TypeError.
 */
const timestamp = z.string().min(1)
const sealedBox = z.object({ iv: z.string(), tag: z.string(), data: z.string() })
const issuedFacts = {
  keyType: z.enum(KEY_TYPES),
  serial: z.string().regex(/^[0-9A-F]+$/),
  fingerprint256: z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
  notBefore: timestamp,
  notAfter: timestamp,
  createdAt: timestamp,
}

const vault = z.discriminatedUnion('protection', [
  z.object({ protection: z.literal('keyfile') }),
  z.object({
    protection: z.literal('passphrase'),
    kdf: z.object({ name: z.literal('scrypt'), N: z.number().int(), r: z.number().int(), p: z.number().int(), salt: z.string() }),
    wrappedKey: sealedBox,
  }),
  z.object({ protection: z.literal('os-keychain'), keychain: z.string(), wrappedKey: z.string().min(1) }),
])

const certificate = z.object({
  ...issuedFacts,
  id: z.string().min(1),
  name: z.string(),
  cn: z.string(),
  enabled: z.boolean(),
  status: z.enum(['active', 'revoked']),
  revokedAt: timestamp.optional(),
  revocationReason: z
    .enum([
      'unspecified',
      'keyCompromise',
      'caCompromise',
      'affiliationChanged',
      'superseded',
      'cessationOfOperation',
      'privilegeWithdrawn',
    ])
    .optional(),
  updatedAt: timestamp,
  keyOrigin: z.enum(['generated', 'csr']),
  hasPrivateKey: z.boolean(),
  renewedFrom: z.string().optional(),
  profile: z.string().optional(),
})

const device = z.object({
  id: z.string().min(1),
  name: z.string(),
  deviceId: z.string().min(1),
  username: z.string().min(1),
  deviceKey: z.union([sealedBox, z.string()]),
  authType: z.enum(['token', 'cert']),
  createdAt: timestamp,
  updatedAt: timestamp,
})

const storeDataSchema = z.object({
  schemaVersion: z.number().int(),
  vault,
  rootCa: z
    .object({
      ...issuedFacts,
      commonName: z.string(),
      subject: z.string(),
      origin: z.enum(['generated', 'imported']),
      crlNumber: z.number().int(),
      crlDistributionPoint: z.string().min(1).optional(),
    })
    .nullable(),
  certificates: z.record(z.string(), certificate),
  devices: z.record(z.string(), device),
  bindings: z.array(z.object({ certificateId: z.string(), deviceRecordId: z.string(), createdAt: timestamp })),
  // Shapes only: values (ports in range, valid filters) are the broker's to judge, with sentences.
  broker: z
    .object({
      settings: z
        .object({
          host: z.string(),
          oneWayPort: z.number().int(),
          mutualPort: z.number().int(),
          extraNames: z.array(z.string()),
          maxPacketBytes: z.number().int(),
          maxConnections: z.number().int(),
          connectRatePerAddress: z.number().int(),
        })
        .partial()
        .optional(),
      serverCertificate: z.object({ ...issuedFacts, recordId: z.string().min(1), names: z.array(z.string()) }).optional(),
      topicRules: z
        .array(z.object({ action: z.enum(['publish', 'subscribe', 'all']), topic: z.string(), permission: z.enum(['allow', 'deny']) }))
        .optional(),
    })
    .optional(),
  audit: z.object({ seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
  testerProfiles: z
    .record(z.string(), z.object({ id: z.string(), name: z.string(), request: z.record(z.string(), z.unknown()), createdAt: timestamp }))
    .optional(),
  // Shapes only: `certdesk profile` judges the values, with sentences.
  profiles: z
    .record(
      z.string(),
      z.object({
        name: z.string(),
        description: z.string(),
        keyType: z.enum(KEY_TYPES).optional(),
        days: z.number().int(),
        commonName: z.enum(COMMON_NAME_SOURCES),
        organization: z.string().optional(),
        organizationalUnit: z.string().optional(),
        country: z.string().optional(),
        subjectAltNames: z.array(z.string()),
        keyUsage: z.array(z.enum(END_ENTITY_KEY_USAGES)),
        extendedKeyUsage: z.array(z.enum(['clientAuth', 'serverAuth'])),
        createdAt: timestamp,
        updatedAt: timestamp,
      }),
    )
    .optional(),
})

/** The first problem in a parsed index, as "certificates.crt_x.enabled: expected boolean", or undefined. */
export function indexProblem(data: unknown): string | undefined {
  const result = storeDataSchema.safeParse(data)
  if (result.success) return undefined
  const issue = result.error.issues[0]
  return `${issue.path.join('.') || '(top)'}: ${issue.message}`
}
