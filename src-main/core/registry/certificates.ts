import { availableParallelism } from 'node:os'
import { CertdeskError, invalidInput } from '../errors'
import { message } from '../messages'
import { forEachConcurrently } from '../concurrency'
import { type KeyObject, createPublicKey } from 'node:crypto'
import { type CertificateFacts, type Issuer, issueCertificate, reissueCertificate } from '../pki/certificates'
import { type CertificateRequestFacts, parseCertificateRequest } from '../pki/certificateRequests'
import { type KeyType, exportPrivateKeyPem, generateKeyPair } from '../pki/keys'
import type { RecordStaging, RegistryStore } from '../store/registryStore'
import { type CertificateRecord, REVOCATION_REASON_CODES, type RevocationReason, type StoreData } from '../store/schema'
import { generateCommonName, newCertificateRecordId } from './ids'
import { findCertificate, findDevice } from './lookup'
import { type ProfileView, fillAlternativeNames, findProfile, profileNeedsDevice } from './profiles'
import { NAME_MAX_LENGTH, normaliseName, validateDays } from './validation'
import { DAY_MS } from './expiry'
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
  /** Defaults to the profile's key type, then the root CA's. */
  keyType?: KeyType
  /** Defaults to the profile's validity. */
  days?: number
  /** A profile's name; the built-in `default` when absent. */
  profile?: string
  /** A device (ID or name) to bind the certificate to; needed when the profile names the device. */
  device?: string
}

export interface CertificateUpdate {
  name?: string
  enabled?: boolean
}

/** Names are unique ignoring case; `exceptId` is the certificate being renamed, which may keep its own. */
function assertNameFree(data: StoreData, name: string, exceptId?: string): void {
  const clash = data.certificates.byName(name)
  if (clash && clash.id !== exceptId) throw new CertdeskError('CONFLICT', message('certificate.nameTaken', { name: clash.name }))
}

export interface IssueOptions {
  /** Called after each certificate is made, before the batch is committed. */
  onProgress?: (done: number, total: number) => void
}

export type IssuerWithRecord = Issuer & { record: { keyType: KeyType; notAfter: string } }

export interface ValidatedInput {
  name: string
  days: number
  keyType: KeyType
  enabled: boolean
  profile: ProfileView
  /** The device to bind to (its record id and device ID), when one was named. */
  device?: { recordId: string; deviceId: string }
}

/** Refuses a validity past the root CA's own expiry: a device would distrust the rest of it. */
function validateDeviceDays(days: number, issuer: IssuerWithRecord, now: Date): number {
  validateDays(days, 'certificate', MAX_DEVICE_CERTIFICATE_DAYS)
  if (now.getTime() + days * DAY_MS > Date.parse(issuer.record.notAfter)) {
    throw new CertdeskError('INVALID_INPUT', message('certificate.outlivesRoot', { days, expires: issuer.record.notAfter.slice(0, 10) }))
  }
  return days
}

/** A device a certificate is issued for: it must exist and authenticate with certificates. */
function deviceForCertificate(data: StoreData, reference: string): { recordId: string; deviceId: string } {
  const device = findDevice(data, reference)
  if (device.authType !== 'cert') throw new CertdeskError('CONFLICT', message('binding.tokenDevice', { deviceId: device.deviceId }))
  return { recordId: device.id, deviceId: device.deviceId }
}

/** How a batch finds the device a certificate is for; provisioning adds devices not yet in the index. */
type DeviceResolver = (data: StoreData, reference: string) => { recordId: string; deviceId: string }

export function validateInputs(
  data: StoreData,
  issuer: IssuerWithRecord,
  inputs: readonly DeviceCertificateInput[],
  now: Date,
  resolveDevice: DeviceResolver = deviceForCertificate,
) {
  const seen = new Set<string>()
  return inputs.map((input): ValidatedInput => {
    const name = normaliseName(input.name, 'certificate')
    const profile = findProfile(data, input.profile)
    const days = validateDeviceDays(input.days ?? profile.days, issuer, now)
    const folded = name.toLowerCase()
    if (seen.has(folded)) throw new CertdeskError('CONFLICT', message('certificate.nameTwice', { name }))
    seen.add(folded)
    assertNameFree(data, name)
    const device = input.device === undefined ? undefined : resolveDevice(data, input.device)
    if (!device && profileNeedsDevice(profile)) throw invalidInput(message('profile.needsDevice', { profile: profile.name }))
    const keyType = input.keyType ?? profile.keyType ?? issuer.record.keyType
    return { name, days, keyType, enabled: input.enabled ?? true, profile, device }
  })
}

/** What a profile puts in a certificate for one input: the subject and the extensions' shape. */
function profiledRequest(input: ValidatedInput, cn: string) {
  const { profile } = input
  const subjectFields = { organization: profile.organization, organizationalUnit: profile.organizationalUnit, country: profile.country }
  // The built-in profile takes the path (and the cached encoding) certificates always took.
  if (profile.builtIn) return { commonName: cn, profile: { kind: 'device' as const } }
  const spec = {
    basicConstraints: { ca: false as const },
    keyUsage: profile.keyUsage,
    extendedKeyUsage: profile.extendedKeyUsage,
    defaultDays: profile.days,
    maxDays: MAX_DEVICE_CERTIFICATE_DAYS,
  }
  const subjectAltNames = fillAlternativeNames(profile, { deviceId: input.device?.deviceId, name: input.name, cn })
  return { commonName: cn, subjectFields, profile: { kind: 'custom' as const, spec, subjectAltNames } }
}

function commonNameFor(input: ValidatedInput): string {
  if (input.profile.commonName === 'certificateName') return input.name
  if (input.profile.commonName === 'deviceId' && input.device) return input.device.deviceId
  return generateCommonName()
}

/**
 * Signed certificate and its files; the index does not name them yet. The key pair is made
 * here, or the public key is the device's own (a signed request) and no private key is kept.
 */
export async function mintDeviceCertificate(
  staging: RecordStaging,
  issuer: IssuerWithRecord,
  input: ValidatedInput,
  now: Date,
  devicePublicKey?: KeyObject,
  keep?: (material: { certificatePem: string; privateKeyPem: string | null }) => void,
): Promise<CertificateRecord> {
  const keys = devicePublicKey ? { publicKey: devicePublicKey, privateKey: undefined } : await generateKeyPair(input.keyType)
  const cn = commonNameFor(input)
  const facts = issueCertificate({
    ...profiledRequest(input, cn),
    publicKey: keys.publicKey,
    subjectKeyType: input.keyType,
    issuer,
    days: input.days,
    now,
  })
  const id = newCertificateRecordId()
  const material = { certificatePem: facts.pem, privateKeyPem: keys.privateKey ? exportPrivateKeyPem(keys.privateKey) : null }
  await staging.write(id, material)
  keep?.(material)
  return newCertificateRecord(id, facts, now.toISOString(), {
    name: input.name,
    cn,
    enabled: input.enabled,
    keyType: input.keyType,
    keyOrigin: keys.privateKey ? 'generated' : 'csr',
    hasPrivateKey: Boolean(keys.privateKey),
    ...(input.profile.builtIn ? {} : { profile: input.profile.name }),
  })
}

/** An active certificate's record: what it says (the signed facts) and what the registry adds. */
function newCertificateRecord(
  id: string,
  facts: CertificateFacts,
  stamp: string,
  fields: Pick<CertificateRecord, 'name' | 'cn' | 'enabled' | 'keyType' | 'keyOrigin' | 'hasPrivateKey' | 'renewedFrom' | 'profile'>,
): CertificateRecord {
  const { serial, fingerprint256, notBefore, notAfter } = facts
  return { id, ...fields, status: 'active', serial, fingerprint256, notBefore, notAfter, createdAt: stamp, updatedAt: stamp }
}

/** Names the new records in the index, with their devices bound, after checking again under the lock. */
export function commitIssued(data: StoreData, records: CertificateRecord[], validated: readonly ValidatedInput[]): CertificateView[] {
  for (const record of records) {
    assertNameFree(data, record.name)
    if (data.certificates.has(record.id)) throw new CertdeskError('CONFLICT', message('certificate.idCollision'))
  }
  const stamp = new Date().toISOString()
  records.forEach((record, index) => {
    data.certificates.put(record)
    const device = validated[index].device
    // Looked up again: the device may have changed since validation, outside the lock.
    if (device)
      data.bindings.add({
        certificateId: record.id,
        deviceRecordId: deviceForCertificate(data, device.recordId).recordId,
        createdAt: stamp,
      })
  })
  return records.map((record) => certificateView(data, record))
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
    return await store.mutate((data) => commitIssued(data, records, validated), { staged: staging })
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

export interface CertificateRequestInput {
  /** The device's PKCS#10 request, PEM. */
  csr: string
  name: string
  profile?: string
  days?: number
  device?: string
  enabled?: boolean
}

/** A certificate signed from a device's request, and what the request asked for that was not used. */
export interface SignedRequest {
  certificate: CertificateView
  request: Pick<CertificateRequestFacts, 'requestedSubject' | 'requestedExtensions'>
}

/**
 * Signs a device's own request: its signature is checked, its public key certified, and the
 * profile — not the request — decides subject and extensions. No private key exists here.
 */
export async function signCertificateRequest(
  store: RegistryStore,
  issuer: IssuerWithRecord,
  input: CertificateRequestInput,
): Promise<SignedRequest> {
  const request = parseCertificateRequest(input.csr)
  const now = new Date()
  const [validated] = validateInputs(store.read(), issuer, [{ ...input, keyType: request.keyType }], now)
  const staging = await store.stageRecords()
  try {
    const record = await mintDeviceCertificate(staging, issuer, validated, now, request.publicKey)
    const [certificate] = await store.mutate((data) => commitIssued(data, [record], [validated]), { staged: staging })
    return { certificate, request: { requestedSubject: request.requestedSubject, requestedExtensions: request.requestedExtensions } }
  } finally {
    await staging.discard()
  }
}

export interface RenewOptions {
  /** Defaults to the old certificate's validity. */
  days?: number
  /** Certify the old public key again; always so for a certificate signed from a device's request. */
  sameKey?: boolean
  /** Revoke the old certificate as superseded in the same step. */
  revokeOld?: boolean
  /** The new certificate's name; by default it takes the old name and the old one is renamed. */
  name?: string
}

/** The old certificate's name once its successor takes the name: "<name> (serial 4A3F21B0)". */
function supersededName(record: CertificateRecord): string {
  const suffix = ` (serial ${record.serial.slice(0, 8)})`
  return [...record.name].slice(0, NAME_MAX_LENGTH - suffix.length).join('') + suffix
}

/**
 * Renews a certificate: a new serial and validity for the same subject and extensions, with a new
 * key unless asked otherwise. The new one is bound to every device the old one is (a device can
 * switch at its own pace; the old binding stays until the old certificate is revoked or deleted)
 * and records where it came from (`renewedFrom`).
 */
export async function renewCertificate(
  store: RegistryStore,
  issuer: IssuerWithRecord,
  reference: string,
  options: RenewOptions = {},
): Promise<CertificateView> {
  const now = new Date()
  const old = findCertificate(store.read(), reference)
  const fromRequest = old.keyOrigin === 'csr' || !old.hasPrivateKey
  if (old.status === 'revoked' && fromRequest)
    throw new CertdeskError('CONFLICT', message('certificate.renewRevokedFromRequest', { name: old.name }))
  if (old.status === 'revoked' && options.sameKey)
    throw new CertdeskError('CONFLICT', message('certificate.renewRevokedSameKey', { name: old.name }))
  const sameKey = options.sameKey === true || fromRequest
  const newName = options.name === undefined ? undefined : normaliseName(options.name, 'certificate')
  if (newName !== undefined) assertNameFree(store.read(), newName)
  const previousDays = Math.round((Date.parse(old.notAfter) - Date.parse(old.notBefore)) / DAY_MS)
  const days = validateDeviceDays(options.days ?? Math.max(1, previousDays), issuer, now)
  const previousPem = await store.readCertificatePem(old.id)
  let privateKeyPem: string | null = null
  let publicKey: KeyObject
  if (sameKey) {
    publicKey = createPublicKey(previousPem)
    if (!fromRequest) privateKeyPem = (await store.readRecordMaterial(old.id)).privateKeyPem
  } else {
    const keys = await generateKeyPair(old.keyType)
    publicKey = keys.publicKey
    privateKeyPem = exportPrivateKeyPem(keys.privateKey)
  }
  const facts = reissueCertificate({ previousPem, publicKey, issuer, days, now })
  const id = newCertificateRecordId()
  const staging = await store.stageRecords()
  try {
    await staging.write(id, { certificatePem: facts.pem, privateKeyPem })
    return await store.mutate(
      (data) => {
        const previous = findCertificate(data, old.id)
        // Checked again under the lock: a revocation (say, keyCompromise) may have landed while
        // the successor was being made, and its key must not be certified again.
        if (previous.status === 'revoked' && sameKey) {
          const key = fromRequest ? 'certificate.renewRevokedFromRequest' : 'certificate.renewRevokedSameKey'
          throw new CertdeskError('CONFLICT', message(key, { name: previous.name }))
        }
        if (data.certificates.has(id)) throw new CertdeskError('CONFLICT', message('certificate.idCollision'))
        const stamp = new Date().toISOString()
        const name = newName ?? previous.name
        if (newName === undefined) {
          // Checked before the rename: afterwards a lookup by that name could find `previous` itself.
          const superseded = supersededName(previous)
          assertNameFree(data, superseded, previous.id)
          previous.name = superseded
        } else assertNameFree(data, name)
        const record = newCertificateRecord(id, facts, stamp, {
          name,
          cn: previous.cn,
          enabled: previous.status === 'revoked' ? true : previous.enabled,
          keyType: previous.keyType,
          keyOrigin: sameKey ? previous.keyOrigin : 'generated',
          hasPrivateKey: privateKeyPem !== null,
          renewedFrom: previous.id,
          ...(previous.profile ? { profile: previous.profile } : {}),
        })
        data.certificates.put(record)
        for (const binding of data.bindings.ofCertificate(previous.id)) {
          data.bindings.add({ certificateId: id, deviceRecordId: binding.deviceRecordId, createdAt: stamp })
        }
        if (options.revokeOld && previous.status !== 'revoked') {
          Object.assign(previous, { status: 'revoked', revokedAt: stamp, revocationReason: 'superseded', enabled: false })
        }
        previous.updatedAt = stamp
        return certificateView(data, record)
      },
      { staged: staging },
    )
  } finally {
    await staging.discard()
  }
}

export function listCertificates(data: StoreData): CertificateView[] {
  const bindings = indexBindings(data)
  return data.certificates
    .all()
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
  // Its record (PEM and key) goes in the same commit.
  const records = await store.stageRecords()
  return store.mutate(
    (data) => {
      const record = findCertificate(data, reference)
      const bound = data.bindings.ofCertificate(record.id)
      if (bound.length > 0) {
        const deviceIds = bound.map((binding) => data.devices.get(binding.deviceRecordId)?.deviceId).join(', ')
        throw new CertdeskError(
          'CONFLICT',
          message('certificate.boundBeforeDelete', { name: record.name, count: bound.length, devices: deviceIds }),
        )
      }
      const view = certificateView(data, record)
      data.certificates.delete(record.id)
      records.remove(record.id)
      return view
    },
    { staged: records },
  )
}
