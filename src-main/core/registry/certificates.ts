import { availableParallelism } from 'node:os'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { forEachConcurrently } from '../concurrency'
import { type Issuer, issueCertificate } from '../pki/certificates'
import { type KeyType, exportPrivateKeyPem, generateKeyPair } from '../pki/keys'
import type { RecordStaging, RegistryStore } from '../store/registryStore'
import { type CertificateRecord, REVOCATION_REASON_CODES, type RevocationReason, type StoreData } from '../store/schema'
import { generateCommonName, newCertificateRecordId } from './ids'
import { bindingsOfCertificate, findCertificate, ownEntry } from './lookup'
import { normaliseName, validateDays } from './validation'
import { type CertificateView, certificateView, indexBindings } from './views'
import { CERTIFICATE_PROFILES } from '../pki/profiles'

export const DEFAULT_DEVICE_CERTIFICATE_DAYS = CERTIFICATE_PROFILES.device.defaultDays
/**
 * Certificates made at once in a batch. Signing is JavaScript on one thread, but key generation
 * and the flushes of key files run on libuv's pool: more in flight than cores keeps both busy.
 */
const MINT_CONCURRENCY = Math.max(8, availableParallelism() * 2)
const MAX_DEVICE_CERTIFICATE_DAYS = CERTIFICATE_PROFILES.device.maxDays

export interface DeviceCertificateInput {
  name: string
  enabled?: boolean
  /** Defaults to the root CA's key type. */
  keyType?: KeyType
  days?: number
}

export interface CertificateUpdate {
  name?: string
  enabled?: boolean
}

function assertNameFree(data: StoreData, name: string, exceptId?: string): void {
  const folded = name.toLocaleLowerCase()
  const clash = Object.values(data.certificates).find(
    (certificate) => certificate.id !== exceptId && certificate.name.toLocaleLowerCase() === folded,
  )
  if (clash) throw new CertdeskError('CONFLICT', message('certificate.nameTaken', { name: clash.name }))
}

export interface IssueOptions {
  /** Called after each certificate is made, before the batch is committed. */
  onProgress?: (done: number, total: number) => void
}

type IssuerWithRecord = Issuer & { record: { keyType: KeyType; notAfter: string } }

interface ValidatedInput {
  name: string
  days: number
  keyType: KeyType
  enabled: boolean
}

function validateInputs(data: StoreData, issuer: IssuerWithRecord, inputs: readonly DeviceCertificateInput[], now: Date) {
  const seen = new Set<string>()
  return inputs.map((input): ValidatedInput => {
    const name = normaliseName(input.name, 'certificate')
    const days = validateDays(input.days ?? DEFAULT_DEVICE_CERTIFICATE_DAYS, 'certificate', MAX_DEVICE_CERTIFICATE_DAYS)
    if (now.getTime() + days * 86_400_000 > Date.parse(issuer.record.notAfter)) {
      throw new CertdeskError('INVALID_INPUT', message('certificate.outlivesRoot', { days, expires: issuer.record.notAfter.slice(0, 10) }))
    }
    const folded = name.toLocaleLowerCase()
    if (seen.has(folded)) throw new CertdeskError('CONFLICT', message('certificate.nameTwice', { name }))
    seen.add(folded)
    assertNameFree(data, name)
    return { name, days, keyType: input.keyType ?? issuer.record.keyType, enabled: input.enabled ?? true }
  })
}

/** Key pair, signed certificate and their files; the index does not name them yet. */
async function mintDeviceCertificate(
  staging: RecordStaging,
  issuer: IssuerWithRecord,
  input: ValidatedInput,
  now: Date,
): Promise<CertificateRecord> {
  const keys = await generateKeyPair(input.keyType)
  const cn = generateCommonName()
  const facts = issueCertificate({
    commonName: cn,
    publicKey: keys.publicKey,
    subjectKeyType: input.keyType,
    issuer,
    days: input.days,
    profile: { kind: 'device' },
    now,
  })
  const id = newCertificateRecordId()
  await staging.write(id, { certificatePem: facts.pem, privateKeyPem: exportPrivateKeyPem(keys.privateKey) })
  const stamp = now.toISOString()
  return {
    id,
    name: input.name,
    cn,
    enabled: input.enabled,
    status: 'active',
    keyType: input.keyType,
    serial: facts.serial,
    fingerprint256: facts.fingerprint256,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    createdAt: stamp,
    updatedAt: stamp,
    keyOrigin: 'generated',
    hasPrivateKey: true,
  }
}

/**
 * Issues device (client) certificates, each with a fresh key pair, as one all-or-nothing step.
 * The slow part — key generation and signing, spread over every core — runs before the index
 * is locked; names are checked again under the lock, and a refused batch leaves no files.
 */
export async function issueDeviceCertificates(
  store: RegistryStore,
  issuer: IssuerWithRecord,
  inputs: readonly DeviceCertificateInput[],
  options: IssueOptions = {},
): Promise<CertificateView[]> {
  const now = new Date()
  const validated = validateInputs(store.read(), issuer, inputs, now)
  const minted: CertificateRecord[] = []
  const staging = await store.stageRecords()
  try {
    await forEachConcurrently(validated, MINT_CONCURRENCY, async (input) => {
      minted.push(await mintDeviceCertificate(staging, issuer, input, now))
      options.onProgress?.(minted.length, validated.length)
    })
    // Keep the caller's order, whatever order the pool finished in.
    const byName = new Map(minted.map((record) => [record.name, record]))
    const records = validated.map((input) => byName.get(input.name) as CertificateRecord)
    return await store.mutate(
      (data) => {
        for (const record of records) {
          assertNameFree(data, record.name)
          if (ownEntry(data.certificates, record.id)) throw new CertdeskError('CONFLICT', message('certificate.idCollision'))
        }
        for (const record of records) data.certificates[record.id] = record
        const bindings = indexBindings(data)
        return records.map((record) => certificateView(data, record, bindings))
      },
      { staged: staging },
    )
  } finally {
    // After a commit it is empty; after a refusal it takes the unused records with it.
    await staging.discard()
  }
}

export async function issueDeviceCertificate(
  store: RegistryStore,
  issuer: IssuerWithRecord,
  input: DeviceCertificateInput,
): Promise<CertificateView> {
  const [view] = await issueDeviceCertificates(store, issuer, [input])
  return view
}

export function listCertificates(data: StoreData): CertificateView[] {
  const bindings = indexBindings(data)
  return Object.values(data.certificates)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .map((record) => certificateView(data, record, bindings))
}

export async function updateCertificate(store: RegistryStore, reference: string, update: CertificateUpdate) {
  const name = update.name === undefined ? undefined : normaliseName(update.name, 'certificate')
  return store.mutate((data) => {
    const record = findCertificate(data, reference)
    if (name !== undefined) {
      assertNameFree(data, name, record.id)
      record.name = name
    }
    if (update.enabled === true && record.status === 'revoked') assertNotRevoked(record, 'certificate.revokedNoEnable')
    if (update.enabled !== undefined) record.enabled = update.enabled
    record.updatedAt = new Date().toISOString()
    return certificateView(data, record)
  })
}

type RevokedRefusal =
  | 'certificate.revokedNoEnable'
  | 'certificate.revokedNoBind'
  | 'certificate.revokedNoExport'
  | 'certificate.revokedNoKeyExport'
  | 'certificate.alreadyRevoked'

/** Revocation is final: what a revoked certificate may no longer do is refused with one sentence. */
export function assertNotRevoked(record: CertificateRecord, key: RevokedRefusal): void {
  if (record.status !== 'revoked') return
  const params = { name: record.name, reason: record.revocationReason ?? 'unspecified', date: record.revokedAt ?? 'an unknown date' }
  throw new CertdeskError('CONFLICT', message(key, params))
}

export const REVOCATION_REASONS = Object.keys(REVOCATION_REASON_CODES) as RevocationReason[]

/** A reason named by the operator, or a sentence listing the choices. */
export function parseRevocationReason(value: unknown): RevocationReason {
  if (typeof value === 'string' && Object.hasOwn(REVOCATION_REASON_CODES, value)) return value as RevocationReason
  throw new CertdeskError(
    'INVALID_INPUT',
    message('certificate.unknownRevocationReason', { value: String(value), choices: REVOCATION_REASONS.join(', ') }),
  )
}

/**
 * Revokes a certificate for good: it stays in the registry (status 'revoked', when, why), is
 * disabled, and goes on the next CRL; the broker refuses it and drops its sessions.
 */
export async function revokeCertificate(store: RegistryStore, reference: string, reason: RevocationReason = 'unspecified') {
  const checked = parseRevocationReason(reason)
  return store.mutate((data) => {
    const record = findCertificate(data, reference)
    assertNotRevoked(record, 'certificate.alreadyRevoked')
    const stamp = new Date().toISOString()
    record.status = 'revoked'
    record.revokedAt = stamp
    record.revocationReason = checked
    record.enabled = false
    record.updatedAt = stamp
    return certificateView(data, record)
  })
}

/** Refused while devices are bound, so a device never silently loses its certificate. */
export async function deleteCertificate(store: RegistryStore, reference: string): Promise<CertificateView> {
  const removed = await store.mutate((data) => {
    const record = findCertificate(data, reference)
    const bound = bindingsOfCertificate(data, record.id)
    if (bound.length > 0) {
      const deviceIds = bound.map((binding) => ownEntry(data.devices, binding.deviceRecordId)?.deviceId).join(', ')
      throw new CertdeskError(
        'CONFLICT',
        message('certificate.boundBeforeDelete', { name: record.name, count: bound.length, devices: deviceIds }),
      )
    }
    const view = certificateView(data, record)
    delete data.certificates[record.id]
    return view
  })
  await store.removeRecordFiles(removed.id)
  return removed
}
