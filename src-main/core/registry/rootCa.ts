import { CertdeskError } from '../errors'
import { message } from '../messages'
import { type Issuer, buildRootCertificate } from '../pki/certificates'
import { DEFAULT_KEY_TYPE, type KeyType, exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem } from '../pki/keys'
import { ROOT_CA_RECORD_ID, RegistryStore } from '../store/registryStore'
import type { KeyProtector } from '../store/vault'
import type { AuditActor, RootCaRecord, StoreData } from '../store/schema'
import { normaliseName, validateDays } from './validation'
import type { RootCaView } from './views'
import { CERTIFICATE_PROFILES, DEFAULT_ROOT_CA_COMMON_NAME } from '../pki/profiles'
import { type ImportedCaInput, readImportedCa } from '../pki/importedCa'

export { ROOT_CA_RECORD_ID }
export const DEFAULT_ROOT_CA_DAYS = CERTIFICATE_PROFILES.root.defaultDays
export { DEFAULT_ROOT_CA_COMMON_NAME }
const MAX_ROOT_CA_DAYS = CERTIFICATE_PROFILES.root.maxDays

export interface RootCaOptions {
  keyType?: KeyType
  commonName?: string
  days?: number
  passphrase?: string
  /** The OS keychain (the desktop app's default when no passphrase is chosen). */
  keychain?: KeyProtector
  /** Who is creating it, for the audit log's first entry. */
  actor?: AuditActor
  /**
   * An existing CA to bring in instead of generating one (`ca import`): its certificate (and chain)
   * and key. keyType, commonName and days are then the certificate's own.
   */
  imported?: ImportedCaInput
}

/** Creates the data folder and its one root CA, offline. */
export async function initialiseRootCa(dataDir: string, options: RootCaOptions): Promise<RegistryStore> {
  if (options.imported !== undefined) return importRootCa(dataDir, options.imported, options)
  const keyType = options.keyType ?? DEFAULT_KEY_TYPE
  const commonName = normaliseName(options.commonName ?? DEFAULT_ROOT_CA_COMMON_NAME, 'common')
  const days = validateDays(options.days ?? DEFAULT_ROOT_CA_DAYS, 'rootCa', MAX_ROOT_CA_DAYS)
  checkVaultPassphrase(options.passphrase)
  return RegistryStore.initialise(
    dataDir,
    { passphrase: options.passphrase, keychain: options.keychain, actor: options.actor },
    async (data, staging) => {
      const keys = await generateKeyPair(keyType)
      const facts = buildRootCertificate({ keys, keyType, commonName, days })
      await staging.write(ROOT_CA_RECORD_ID, {
        certificatePem: facts.pem,
        privateKeyPem: exportPrivateKeyPem(keys.privateKey),
      })
      data.rootCa = {
        commonName,
        keyType,
        serial: facts.serial,
        fingerprint256: facts.fingerprint256,
        subject: facts.subject,
        notBefore: facts.notBefore,
        notAfter: facts.notAfter,
        createdAt: new Date().toISOString(),
        origin: 'generated',
        crlNumber: 1,
      }
    },
  )
}

/**
 * Creates the data folder around an existing CA: every check on the certificate and key runs
 * before the folder is touched, so a refusal writes nothing. The key is sealed like a generated
 * one; the record's certificate file holds the CA certificate followed by its chain (an
 * intermediate's issuers up to the root), which is what every `root_ca.crt` then carries.
 */
async function importRootCa(dataDir: string, input: ImportedCaInput, options: RootCaOptions): Promise<RegistryStore> {
  checkVaultPassphrase(options.passphrase)
  const ca = readImportedCa(input)
  return RegistryStore.initialise(
    dataDir,
    { passphrase: options.passphrase, keychain: options.keychain, actor: options.actor },
    async (data, staging) => {
      await staging.write(ROOT_CA_RECORD_ID, {
        certificatePem: [ca.certificatePem, ...ca.chainPems].join(''),
        privateKeyPem: ca.privateKeyPem,
      })
      data.rootCa = {
        commonName: ca.commonName,
        keyType: ca.keyType,
        serial: ca.serial,
        fingerprint256: ca.fingerprint256,
        subject: ca.subject,
        notBefore: ca.notBefore,
        notAfter: ca.notAfter,
        createdAt: new Date().toISOString(),
        origin: 'imported',
        // The CA may have published CRLs before, and RFC 5280 §5.2.3 wants their numbers to keep
        // growing: start from the time in seconds, above any counter it used (gaps are allowed).
        crlNumber: Math.floor(Date.now() / 1000),
      }
    },
  )
}

function checkVaultPassphrase(passphrase: string | undefined): void {
  if (passphrase !== undefined && passphrase.length < 8) {
    throw new CertdeskError('INVALID_INPUT', message('validation.passphraseTooShort'))
  }
}

function requireRootCa(data: StoreData, dataDir: string): RootCaRecord {
  if (!data.rootCa) throw new CertdeskError('NOT_INITIALISED', message('rootCa.missing', { dataDir }))
  return data.rootCa
}

/** The root CA's certificate and private key, ready to sign. Needs the vault unlocked. */
export async function loadIssuer(store: RegistryStore): Promise<Issuer & { record: RootCaRecord }> {
  const record = requireRootCa(store.read(), store.dataDir)
  const { certificatePem, privateKeyPem } = await store.readRecordMaterial(ROOT_CA_RECORD_ID)
  return { certificatePem, privateKey: importPrivateKeyPem(privateKeyPem), keyType: record.keyType, record }
}

export function rootCaView(data: StoreData, dataDir: string): RootCaView {
  const { commonName, subject, keyType, serial, fingerprint256, notBefore, notAfter, createdAt, origin, crlDistributionPoint } =
    requireRootCa(data, dataDir)
  return {
    commonName,
    subject,
    keyType,
    serial,
    fingerprint256,
    notBefore,
    notAfter,
    createdAt,
    origin,
    keyProtection: data.vault.protection,
    dataDir,
    ...(crlDistributionPoint === undefined ? {} : { crlDistributionPoint }),
  }
}

/** Longer URLs would bloat every certificate; RFC 5280 sets no limit, so this one is Certdesk's. */
const MAX_CRL_URL_LENGTH = 2000

/** An absolute http or https URL with a host, as written into cRLDistributionPoints; one sentence otherwise. */
function validateCrlDistributionPoint(value: string): string {
  const trimmed = value.trim()
  let url: URL | undefined
  try {
    url = new URL(trimmed)
  } catch {
    url = undefined
  }
  // IA5String: ASCII only, so the text is checked as given (URL would percent-encode the rest).
  const ascii = /^[\x21-\x7e]+$/.test(trimmed)
  if (!url || !ascii || !['http:', 'https:'].includes(url.protocol) || url.hostname === '' || trimmed.length > MAX_CRL_URL_LENGTH) {
    throw new CertdeskError('INVALID_INPUT', message('rootCa.crlUrlInvalid', { value: value.slice(0, 200), max: MAX_CRL_URL_LENGTH }))
  }
  return trimmed
}

/** Sets (or, with null, clears) the CRL distribution point; certificates issued before keep what they had. */
export async function setCrlDistributionPoint(store: RegistryStore, url: string | null): Promise<RootCaView> {
  const value = url === null ? undefined : validateCrlDistributionPoint(url)
  return store.mutate((data) => {
    const record = requireRootCa(data, store.dataDir)
    if (value === undefined) delete record.crlDistributionPoint
    else record.crlDistributionPoint = value
    return rootCaView(data, store.dataDir)
  })
}
