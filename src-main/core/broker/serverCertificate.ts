import { hostname } from 'node:os'
import { isIP } from 'node:net'
import { CertdeskError, invalidInput } from '../errors'
import { message } from '../messages'
import { type Issuer, issueCertificate } from '../pki/certificates'
import { type KeyType, exportPrivateKeyPem, generateKeyPair } from '../pki/keys'
import type { RegistryStore } from '../store/registryStore'
import type { BrokerServerCertificateRecord } from '../store/schema'
import { CERTIFICATE_PROFILES } from '../pki/profiles'

const BROKER_SERVER_RECORD_PREFIX = 'broker-server-'
/** Always the longest the profile allows (397 days: what browsers and most TLS stacks accept). */
const SERVER_CERTIFICATE_DAYS = CERTIFICATE_PROFILES.server.maxDays
/** Re-issued this long before it expires, so a running fleet never meets an expired broker. */
const RENEW_WITHIN_DAYS = 30

const DNS_NAME = /^(?=.{1,253}$)(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

export function validateServerName(name: string): string {
  if (isIP(name) || DNS_NAME.test(name)) return name
  throw invalidInput(message('brokerSettings.serverNameInvalid', { name }))
}

/** localhost, both loopback addresses, this machine's name, and the operator's additions. */
export function serverNames(extraNames: readonly string[] = []): string[] {
  const names = ['localhost', '127.0.0.1', '::1', hostname(), ...extraNames.map(validateServerName)]
  return [...new Set(names.map((name) => (isIP(name) ? name : name.toLowerCase())))].sort()
}

export interface ServerCertificateMaterial {
  record: BrokerServerCertificateRecord
  certificatePem: string
  privateKeyPem: string
}

function isCurrent(record: BrokerServerCertificateRecord | undefined, names: string[], now: Date): boolean {
  if (!record) return false
  const renewAt = Date.parse(record.notAfter) - RENEW_WITHIN_DAYS * 86_400_000
  return record.names.join(',') === names.join(',') && now.getTime() < renewAt
}

/**
 * The broker's server certificate for these names: the stored one while it still fits, else a
 * new one (names changed, or within 30 days of expiry). Two brokers starting at once agree on
 * one certificate: the second sees the first's under the lock and keeps that.
 */
export async function ensureServerCertificate(
  store: RegistryStore,
  loadIssuer: () => Promise<Issuer & { record: { keyType: KeyType; notAfter: string } }>,
  names: string[],
): Promise<ServerCertificateMaterial> {
  const now = new Date()
  const stored = store.read().broker?.serverCertificate
  if (stored && isCurrent(stored, names, now)) {
    const material = await store.readRecordMaterial(stored.recordId)
    return { record: stored, ...material }
  }
  const issuer = await loadIssuer()
  const caDaysLeft = Math.floor((Date.parse(issuer.record.notAfter) - now.getTime()) / 86_400_000)
  const days = Math.min(SERVER_CERTIFICATE_DAYS, caDaysLeft)
  if (days < 1) throw new CertdeskError('INVALID_INPUT', message('brokerSettings.rootExpired'))
  const keyType = issuer.record.keyType
  const keys = await generateKeyPair(keyType)
  const facts = issueCertificate({
    commonName: names.includes('localhost') ? 'localhost' : names[0],
    publicKey: keys.publicKey,
    subjectKeyType: keyType,
    issuer,
    days,
    profile: { kind: 'server', names },
    now,
  })
  const record: BrokerServerCertificateRecord = {
    recordId: `${BROKER_SERVER_RECORD_PREFIX}${facts.serial.slice(0, 16).toLowerCase()}`,
    names,
    keyType,
    serial: facts.serial,
    fingerprint256: facts.fingerprint256,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    createdAt: now.toISOString(),
  }
  const privateKeyPem = exportPrivateKeyPem(keys.privateKey)
  // Each issuance gets its own record, written in the commit that names it, which also removes
  // the replaced one: a broker reading at any moment finds a matching pair.
  const staging = await store.stageRecords()
  let outcome: { kept: BrokerServerCertificateRecord } | { replaced: BrokerServerCertificateRecord | undefined }
  try {
    await staging.write(record.recordId, { certificatePem: facts.pem, privateKeyPem })
    outcome = await store.mutate(
      (data): typeof outcome => {
        const current = data.broker?.serverCertificate
        if (current && isCurrent(current, names, now)) {
          staging.forget(record.recordId)
          return { kept: current }
        }
        data.broker = { ...data.broker, serverCertificate: record }
        if (current) staging.remove(current.recordId)
        return { replaced: current }
      },
      { staged: staging },
    )
  } finally {
    await staging.discard()
  }
  if ('kept' in outcome) {
    // Another broker issued one first; use that (ours was never moved in).
    return { record: outcome.kept, ...(await store.readRecordMaterial(outcome.kept.recordId)) }
  }
  return { record, certificatePem: facts.pem, privateKeyPem }
}
