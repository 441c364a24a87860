import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto'
import type * as AsnSchema from '@peculiar/asn1-schema'
import type * as Asn from '@peculiar/asn1-x509'
import type Forge from 'node-forge'
import { CertdeskError } from '../errors'
import { type Message, message } from '../messages'
import { KEY_TYPES, type KeyType } from './keyTypes'
import { exportPrivateKeyPem, keyTypeOf } from './keys'
import { lazyModule } from '../lazyModule'

const asn = lazyModule<typeof Asn>('@peculiar/asn1-x509')
const asnSchema = lazyModule<typeof AsnSchema>('@peculiar/asn1-schema')
const forge = lazyModule<typeof Forge>('node-forge')

/*
 * An existing CA brought into Certdesk (`ca import`, the first-run screen's import): its
 * certificate and private key from PEM files or a PKCS#12 file, checked before anything is
 * written. Certificates are read by Node's X509Certificate (and @peculiar/asn1-x509 for keyUsage),
 * keys by Node's crypto, PKCS#12 files by node-forge (which decrypts OpenSSL 3's AES/PBKDF2 files
 * and the legacy RC2/3DES ones alike).
 */

/** What the operator hands over: PEM certificate(s) and key, or a PKCS#12 file. */
export type ImportedCaInput =
  | {
      /** The CA certificate first; any further certificates are taken as its chain. */
      certificatePem: string
      privateKeyPem: string
      /** Opens an encrypted private key. */
      keyPassphrase?: string
      /** More chain certificates (PEM), from a separate file. */
      chainPem?: string
    }
  | {
      pkcs12: Uint8Array
      /** Opens the PKCS#12 file (none: the empty password). */
      pkcs12Passphrase?: string
    }

/** The CA as Certdesk keeps it: the checked facts, its PEM with the chain after it, and its key. */
export interface ImportedCa {
  /** The CA certificate, then its issuers up to the root (empty chain for a root). */
  certificatePem: string
  /** The certificates above the CA (intermediate's issuer first, root last); empty for a root CA. */
  chainPems: string[]
  /** PKCS#8 PEM, unencrypted: the store seals it like a generated key. */
  privateKeyPem: string
  privateKey: KeyObject
  keyType: KeyType
  commonName: string
  subject: string
  serial: string
  fingerprint256: string
  notBefore: string
  notAfter: string
}

const refuse = (sentence: Message, cause?: unknown) => new CertdeskError('INVALID_INPUT', sentence, cause === undefined ? {} : { cause })

/** Node's multi-line subject ("C=DE\nO=Acme\nCN=Root") as one line. */
const oneLine = (name: string) => name.split('\n').join(', ')

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/** Every certificate of a PEM text, in order. */
export function pemCertificates(text: string): string[] {
  return (text.match(PEM_CERTIFICATE) ?? []).map((pem) => `${pem}\n`)
}

/**
 * The CA certificates a TLS server sends after its own (RFC 8446 §4.4.2): those of the CA chain
 * that are not self-signed, so a client that trusts only the root can build the path. None for
 * a root CA.
 */
export function intermediateCertificates(caChainPem: string): string {
  return pemCertificates(caChainPem)
    .filter((pem) => !selfSigned(new X509Certificate(pem)))
    .join('')
}

function parseCertificate(pem: string | Buffer): X509Certificate {
  try {
    return new X509Certificate(pem)
  } catch (error) {
    throw refuse(message('caImport.certificateUnreadable'), error)
  }
}

/** How to name a key Certdesk does not issue with, in the refusal. */
function describeUnsupportedKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details.modulusLength}-bit`
  if (key.asymmetricKeyType === 'ec') return `EC ${details.namedCurve ?? 'with explicit parameters'}`
  return String(key.asymmetricKeyType ?? 'unknown').toUpperCase()
}

function supportedKeyType(key: KeyObject): KeyType {
  const known = keyTypeOf(key)
  if (known === undefined) {
    throw refuse(message('caImport.keyTypeUnsupported', { found: describeUnsupportedKey(key), choices: KEY_TYPES.join(', ') }))
  }
  return known
}

/**
 * basicConstraints' cA and the keyUsage bits (undefined: no keyUsage extension). Read from the
 * certificate itself: Node's `ca` is OpenSSL's X509_check_ca, which folds keyUsage in.
 */
function constraintsOf(certificate: X509Certificate): { ca: boolean; keyUsage: number | undefined } {
  const extensions = asnSchema.AsnConvert.parse(certificate.raw, asn.Certificate).tbsCertificate.extensions ?? []
  const find = (id: string) => extensions.find((extension) => extension.extnID === id)?.extnValue.buffer
  const constraints = find(asn.id_ce_basicConstraints)
  const usage = find(asn.id_ce_keyUsage)
  return {
    ca: constraints !== undefined && asnSchema.AsnConvert.parse(constraints, asn.BasicConstraints).cA,
    keyUsage: usage === undefined ? undefined : asnSchema.AsnConvert.parse(usage, asn.KeyUsage).toNumber(),
  }
}

/** Not valid yet or no longer: the one sentence, naming the certificate. */
function checkValidNow(certificate: X509Certificate, now: Date, role: 'ca' | 'chain'): void {
  const subject = oneLine(certificate.subject)
  const notBefore = new Date(certificate.validFrom)
  const notAfter = new Date(certificate.validTo)
  if (now < notBefore) {
    throw refuse(message(role === 'ca' ? 'caImport.notYetValid' : 'caImport.chainNotYetValid', { subject, date: notBefore.toISOString() }))
  }
  if (now >= notAfter) {
    throw refuse(message(role === 'ca' ? 'caImport.expired' : 'caImport.chainExpired', { subject, date: notAfter.toISOString() }))
  }
}

/** CA:TRUE, keyCertSign and cRLSign (when keyUsage is there at all), valid now, a supported key type. */
function checkCaCertificate(certificate: X509Certificate, now: Date): KeyType {
  const subject = oneLine(certificate.subject)
  let constraints: ReturnType<typeof constraintsOf>
  try {
    constraints = constraintsOf(certificate)
  } catch (error) {
    throw refuse(message('caImport.certificateUnreadable'), error)
  }
  if (!constraints.ca) throw refuse(message('caImport.notCa', { subject }))
  const usage = constraints.keyUsage
  // No keyUsage at all puts no limit on the key (RFC 5280 §4.2.1.3), and OpenSSL agrees.
  if (usage !== undefined && (usage & asn.KeyUsageFlags.keyCertSign) === 0) throw refuse(message('caImport.noKeyCertSign', { subject }))
  if (usage !== undefined && (usage & asn.KeyUsageFlags.cRLSign) === 0) throw refuse(message('caImport.noCrlSign', { subject }))
  checkValidNow(certificate, now, 'ca')
  return supportedKeyType(certificate.publicKey)
}

const isEncryptedPem = (pem: string) => pem.includes('ENCRYPTED PRIVATE KEY') || pem.includes('Proc-Type: 4,ENCRYPTED')

function readPrivateKey(pem: string, passphrase: string | undefined): KeyObject {
  const encrypted = isEncryptedPem(pem)
  if (encrypted && (passphrase === undefined || passphrase === '')) throw refuse(message('caImport.keyPassphraseRequired'))
  try {
    return createPrivateKey(encrypted ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' })
  } catch (error) {
    throw refuse(message(encrypted ? 'caImport.keyPassphraseWrong' : 'caImport.keyUnreadable'), error)
  }
}

const sameKey = (certificate: X509Certificate, key: KeyObject) => {
  try {
    return certificate.checkPrivateKey(key)
  } catch {
    return false
  }
}

const selfSigned = (certificate: X509Certificate) => certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey)

/**
 * The certificates above the CA, from `candidates`: each one's issuer (by name and signature)
 * until a self-signed root. Certificates that are not on that path are left out.
 */
function buildChain(ca: X509Certificate, candidates: readonly X509Certificate[], now: Date): X509Certificate[] {
  const chain: X509Certificate[] = []
  let current = ca
  while (!selfSigned(current)) {
    const issuer = candidates.find(
      (candidate) => !chain.includes(candidate) && current.checkIssued(candidate) && current.verify(candidate.publicKey),
    )
    if (issuer === undefined || chain.length >= 8) {
      throw refuse(message('caImport.chainIncomplete', { subject: oneLine(current.subject), issuer: oneLine(current.issuer) }))
    }
    if (!issuer.ca) throw refuse(message('caImport.chainNotCa', { subject: oneLine(issuer.subject) }))
    checkValidNow(issuer, now, 'chain')
    chain.push(issuer)
    current = issuer
  }
  return chain
}

/** The key and certificates of a PKCS#12 file; the CA certificate is the one that matches the key. */
function readPkcs12(bytes: Uint8Array, passphrase: string): { key: KeyObject; certificates: X509Certificate[] } {
  let bags: Forge.pkcs12.Bag[]
  try {
    const asn1 = forge.asn1.fromDer(Buffer.from(bytes).toString('binary'))
    const p12 = forge.pkcs12.pkcs12FromAsn1(asn1, passphrase)
    bags = p12.safeContents.flatMap((contents) => contents.safeBags)
  } catch (error) {
    const wrong = error instanceof Error && /MAC could not be verified|wrong password|Invalid password/i.test(error.message)
    throw refuse(message(wrong ? 'caImport.pkcs12PassphraseWrong' : 'caImport.pkcs12Unreadable'), error)
  }
  const keys: KeyObject[] = []
  const certificates: X509Certificate[] = []
  for (const bag of bags) {
    // forge parses RSA keys and certificates itself; others (EC) it hands back as ASN.1.
    const parsed = bag as Forge.pkcs12.Bag & { asn1?: Forge.asn1.Asn1 }
    if (bag.type === forge.pki.oids.certBag) {
      const certificate = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : parsed.asn1
      if (certificate) certificates.push(parseCertificate(Buffer.from(forge.asn1.toDer(certificate).getBytes(), 'binary')))
    } else if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
      const info = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : parsed.asn1
      if (!info) continue
      try {
        keys.push(createPrivateKey({ key: Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary'), format: 'der', type: 'pkcs8' }))
      } catch (error) {
        throw refuse(message('caImport.keyUnreadable'), error)
      }
    }
  }
  if (keys.length === 0) throw refuse(message('caImport.pkcs12NoKey'))
  return { key: keys[0], certificates }
}

/**
 * Reads and checks an existing CA: the certificate parses, is a CA (CA:TRUE, keyCertSign and
 * cRLSign when it has keyUsage), is valid now, has a key type Certdesk supports, the private key
 * opens and matches it, and (not self-signed) its chain up to a root is there. Each failure is one
 * sentence; nothing is written by this function.
 */
export function readImportedCa(input: ImportedCaInput, now = new Date()): ImportedCa {
  let ca: X509Certificate
  let others: X509Certificate[]
  let privateKey: KeyObject
  if ('pkcs12' in input) {
    const { key, certificates } = readPkcs12(input.pkcs12, input.pkcs12Passphrase ?? '')
    const own = certificates.find((certificate) => sameKey(certificate, key))
    if (own === undefined) throw refuse(message('caImport.pkcs12NoMatch'))
    ca = own
    others = certificates.filter((certificate) => certificate !== own)
    checkCaCertificate(ca, now)
    privateKey = key
  } else {
    const pems = pemCertificates(input.certificatePem)
    if (pems.length === 0) throw refuse(message('caImport.certificateMissing'))
    ca = parseCertificate(pems[0])
    others = [...pems.slice(1), ...pemCertificates(input.chainPem ?? '')].map(parseCertificate)
    checkCaCertificate(ca, now)
    privateKey = readPrivateKey(input.privateKeyPem, input.keyPassphrase)
  }
  const keyType = supportedKeyType(privateKey)
  if (!sameKey(ca, privateKey)) throw refuse(message('caImport.keyMismatch', { subject: oneLine(ca.subject) }))
  const chain = buildChain(ca, others, now)
  const commonName =
    ca.subject
      .split('\n')
      .findLast((part) => part.startsWith('CN='))
      ?.slice(3) ?? oneLine(ca.subject)
  return {
    certificatePem: ca.toString(),
    chainPems: chain.map((certificate) => certificate.toString()),
    privateKeyPem: exportPrivateKeyPem(privateKey),
    privateKey,
    keyType,
    commonName,
    subject: oneLine(ca.subject),
    serial: ca.serialNumber.toUpperCase(),
    fingerprint256: ca.fingerprint256,
    notBefore: new Date(ca.validFrom).toISOString(),
    notAfter: new Date(ca.validTo).toISOString(),
  }
}
