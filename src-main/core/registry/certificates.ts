import { CertdeskError } from '../errors'
import { type Issuer, issueCertificate } from '../pki/certificates'
import { type KeyType, exportPrivateKeyPem, generateKeyPair } from '../pki/keys'
import type { RegistryStore } from '../store/registryStore'
import type { CertificateRecord, StoreData } from '../store/schema'
import { generateCommonName, newCertificateRecordId } from './ids'
import { bindingsOfCertificate, findCertificate } from './lookup'
import { normaliseName, validateDays } from './validation'
import { type CertificateView, certificateView } from './views'

export const DEFAULT_DEVICE_CERTIFICATE_DAYS = 365
const MAX_DEVICE_CERTIFICATE_DAYS = 36_500

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
  if (clash) throw new CertdeskError('CONFLICT', `A certificate named "${clash.name}" already exists.`)
}

/**
 * Issues a device (client) certificate with a fresh key pair. The slow part — key generation and
 * signing — runs before the index is locked; the name is checked again under the lock, and the
 * files written for a losing racer are removed.
 */
export async function issueDeviceCertificate(
  store: RegistryStore,
  issuer: Issuer & { record: { keyType: KeyType; notAfter: string } },
  input: DeviceCertificateInput,
): Promise<CertificateView> {
  const name = normaliseName(input.name, 'certificate')
  const days = validateDays(input.days ?? DEFAULT_DEVICE_CERTIFICATE_DAYS, 'certificate', MAX_DEVICE_CERTIFICATE_DAYS)
  const keyType = input.keyType ?? issuer.record.keyType
  assertNameFree(store.read(), name)
  const now = new Date()
  if (now.getTime() + days * 86_400_000 > Date.parse(issuer.record.notAfter)) {
    throw new CertdeskError(
      'INVALID_INPUT',
      `A certificate valid for ${days} days would outlive the root CA, which expires on ${issuer.record.notAfter.slice(0, 10)}.`,
    )
  }

  const keys = await generateKeyPair(keyType)
  const cn = generateCommonName()
  const facts = await issueCertificate({
    commonName: cn,
    publicKey: keys.publicKey,
    subjectKeyType: keyType,
    issuer,
    days,
    profile: { kind: 'device' },
    now,
  })
  const id = newCertificateRecordId()
  await store.writePrivateKey(id, await exportPrivateKeyPem(keys.privateKey))
  await store.writeCertificatePem(id, facts.pem)

  const stamp = now.toISOString()
  const record: CertificateRecord = {
    id,
    name,
    cn,
    enabled: input.enabled ?? true,
    status: 'active',
    keyType,
    serial: facts.serial,
    fingerprint256: facts.fingerprint256,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    createdAt: stamp,
    updatedAt: stamp,
    keyOrigin: 'generated',
    hasPrivateKey: true,
  }
  try {
    return await store.mutate((data) => {
      assertNameFree(data, name)
      if (data.certificates[id]) throw new CertdeskError('CONFLICT', 'Certificate id collision; try again.')
      data.certificates[id] = record
      return certificateView(data, record)
    })
  } catch (error) {
    await store.removeRecordFiles(id)
    throw error
  }
}

export function listCertificates(data: StoreData): CertificateView[] {
  return Object.values(data.certificates)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .map((record) => certificateView(data, record))
}

export async function updateCertificate(store: RegistryStore, reference: string, update: CertificateUpdate) {
  const name = update.name === undefined ? undefined : normaliseName(update.name, 'certificate')
  return store.mutate((data) => {
    const record = findCertificate(data, reference)
    if (name !== undefined) {
      assertNameFree(data, name, record.id)
      record.name = name
    }
    if (update.enabled !== undefined) record.enabled = update.enabled
    record.updatedAt = new Date().toISOString()
    return certificateView(data, record)
  })
}

/** Refused while devices are bound, so a device never silently loses its certificate. */
export async function deleteCertificate(store: RegistryStore, reference: string): Promise<CertificateView> {
  const removed = await store.mutate((data) => {
    const record = findCertificate(data, reference)
    const bound = bindingsOfCertificate(data, record.id)
    if (bound.length > 0) {
      const deviceIds = bound.map((binding) => data.devices[binding.deviceRecordId]?.deviceId).join(', ')
      throw new CertdeskError(
        'CONFLICT',
        `Certificate "${record.name}" is bound to ${bound.length} device(s) (${deviceIds}); unbind them before deleting it.`,
      )
    }
    const view = certificateView(data, record)
    delete data.certificates[record.id]
    return view
  })
  await store.removeRecordFiles(removed.id)
  return removed
}
