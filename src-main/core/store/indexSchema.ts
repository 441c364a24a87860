import { KEY_TYPES } from '../pki/keyTypes'
import { COMMON_NAME_SOURCES, END_ENTITY_KEY_USAGES, EXTENDED_KEY_USAGES } from '../pki/profiles'
import { REVOCATION_REASON_CODES } from './schema'
import {
  array,
  boolean,
  discriminated,
  integer,
  nullable,
  object,
  oneOf,
  optional,
  partial,
  record,
  string,
  union,
  unknownValue,
} from './shape'

/**
 * The shape of a current-schema index, checked whenever the file is parsed: a field of the wrong
 * type (a hand edit, a bad restore) is reported as a damaged index in one sentence instead of
 * failing later, deep inside a command, with a TypeError.
 */
const timestamp = string({ min: 1 })
const sealedBox = object({ iv: string(), tag: string(), data: string() })
const issuedFacts = {
  keyType: oneOf(KEY_TYPES),
  serial: string({ pattern: /^[0-9A-F]+$/ }),
  fingerprint256: string({ pattern: /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/ }),
  notBefore: timestamp,
  notAfter: timestamp,
  createdAt: timestamp,
}

const vault = discriminated('protection', {
  keyfile: object({}),
  passphrase: object({
    kdf: object({ name: oneOf(['scrypt']), N: integer(), r: integer(), p: integer(), salt: string() }),
    wrappedKey: sealedBox,
  }),
  'os-keychain': object({ keychain: string(), wrappedKey: string({ min: 1 }) }),
})

const certificate = object({
  ...issuedFacts,
  id: string({ min: 1 }),
  name: string(),
  cn: string(),
  enabled: boolean,
  status: oneOf(['active', 'revoked']),
  revokedAt: optional(timestamp),
  revocationReason: optional(oneOf(Object.keys(REVOCATION_REASON_CODES))),
  updatedAt: timestamp,
  keyOrigin: oneOf(['generated', 'csr']),
  hasPrivateKey: boolean,
  renewedFrom: optional(string()),
  profile: optional(string()),
})

const device = object({
  id: string({ min: 1 }),
  name: string(),
  deviceId: string({ min: 1 }),
  username: string({ min: 1 }),
  deviceKey: union(sealedBox, string()),
  authType: oneOf(['token', 'cert']),
  createdAt: timestamp,
  updatedAt: timestamp,
})

const binding = object({ certificateId: string(), deviceRecordId: string(), createdAt: timestamp })

const headFields = {
  schemaVersion: integer(),
  unsealedDeviceKeys: optional(boolean),
  vault,
  rootCa: nullable(
    object({
      ...issuedFacts,
      commonName: string(),
      subject: string(),
      origin: oneOf(['generated', 'imported']),
      crlNumber: integer(),
      crlDistributionPoint: optional(string({ min: 1 })),
    }),
  ),
  // Shapes only: values (ports in range, valid filters) are the broker's to judge, with sentences.
  broker: optional(
    object({
      settings: optional(
        partial({
          host: string(),
          oneWayPort: integer(),
          mutualPort: integer(),
          extraNames: array(string()),
          maxPacketBytes: integer(),
          maxConnections: integer(),
          connectRatePerAddress: integer(),
        }),
      ),
      serverCertificate: optional(object({ ...issuedFacts, recordId: string({ min: 1 }), names: array(string()) })),
      topicRules: optional(
        array(object({ action: oneOf(['publish', 'subscribe', 'all']), topic: string(), permission: oneOf(['allow', 'deny']) })),
      ),
    }),
  ),
  audit: optional(object({ seq: integer({ min: 0 }), hash: string({ pattern: /^[0-9a-f]{64}$/ }) })),
  testerProfiles: optional(record(object({ id: string(), name: string(), request: record(unknownValue), createdAt: timestamp }))),
  // Shapes only: `certdesk profile` judges the values, with sentences.
  profiles: optional(
    record(
      object({
        name: string(),
        description: string(),
        keyType: optional(oneOf(KEY_TYPES)),
        days: integer(),
        commonName: oneOf(COMMON_NAME_SOURCES),
        organization: optional(string()),
        organizationalUnit: optional(string()),
        country: optional(string()),
        subjectAltNames: array(string()),
        keyUsage: array(oneOf(END_ENTITY_KEY_USAGES)),
        extendedKeyUsage: array(oneOf(Object.keys(EXTENDED_KEY_USAGES))),
        createdAt: timestamp,
        updatedAt: timestamp,
      }),
    ),
  ),
}

/** Schema 2's index, everything in one file (a folder to upgrade, a backup). */
const wholeIndexSchema = object({
  ...headFields,
  certificates: record(certificate),
  devices: record(device),
  bindings: array(binding),
})

/** Schema 3's head: the small fields, and which file holds each bucket of the tables. */
const headSchema = object({
  ...headFields,
  tables: object({
    generation: integer({ min: 0 }),
    files: record(integer({ min: 0 })),
  }),
})

const bucketSchemas = {
  certificates: record(certificate),
  devices: record(device),
  bindings: record(array(binding)),
  keys: record(union(string(), array(string()))),
  records: record(
    object({
      certificatePem: string({ min: 1 }),
      privateKey: nullable(object({ format: string(), iv: string(), tag: string(), data: string() })),
    }),
  ),
}

function describe(problem: { path: (string | number)[]; message: string } | undefined): string | undefined {
  if (problem === undefined) return undefined
  return `${problem.path.join('.') || '(top)'}: ${problem.message}`
}

/** The first problem in a parsed head (schema 3), as "rootCa.serial: expected string, received number", or undefined. */
export function headProblem(data: unknown): string | undefined {
  return describe(headSchema(data, []))
}

/** The first problem in one bucket file of a table, with the table's name first in its path. */
export function bucketProblem(table: keyof typeof bucketSchemas, bucket: unknown): string | undefined {
  return describe(bucketSchemas[table](bucket, [table]))
}

/** The first problem in a parsed index, as "certificates.crt_x.enabled: expected boolean, received string", or undefined. */
export function indexProblem(data: unknown): string | undefined {
  return describe(wholeIndexSchema(data, []))
}
