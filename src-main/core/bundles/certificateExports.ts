import { X509Certificate, createPrivateKey } from 'node:crypto'
import type Forge from 'node-forge'
import { invalidInput } from '../errors'
import { message } from '../messages'
import { pemCertificates } from '../pki/importedCa'
import type { BundleContents } from './deviceBundle'
import { lazyModule } from '../lazyModule'

const forge = lazyModule<typeof Forge>('node-forge')

/** The formats `cert export --format` offers; zip (the seed's bundle, deviceBundle.ts) is the default. */
export const EXPORT_FORMATS = ['zip', 'pem', 'der', 'chain', 'p12', 'key'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** The extension a saved export's name ends with (the file is named after the certificate). */
export const EXPORT_FILE_EXTENSIONS: Record<ExportFormat, string> = {
  zip: '.zip',
  pem: '.crt',
  der: '.der',
  chain: '.chain.pem',
  p12: '.p12',
  key: '.key',
}

/** The formats that carry the private key: refused for a certificate Certdesk holds no key for. */
export const KEY_FORMATS: readonly ExportFormat[] = ['zip', 'p12', 'key']

export function parseExportFormat(value: string): ExportFormat {
  const format = EXPORT_FORMATS.find((candidate) => candidate === value)
  if (format === undefined) throw invalidInput(message('export.unknownFormat', { value, choices: EXPORT_FORMATS.join(', ') }))
  return format
}

export interface CertificateExportOptions {
  /** Protects p12 and key exports; required for p12, and for key unless `plainKey`. */
  passphrase?: string
  /** p12: 3DES and SHA-1 instead of AES-256-CBC with PBKDF2-SHA256, for old Windows and Java stores. */
  legacy?: boolean
  /** p12: the friendly name (default: the certificate's name). */
  friendlyName?: string
  /** key: an unencrypted PEM key; the caller has asked for explicit confirmation. */
  plainKey?: boolean
}

/** The certificate as PEM, normalised to end in one newline. */
export function certificatePemExport(certificatePem: string): Buffer {
  return Buffer.from(`${certificatePem.trim()}\n`, 'utf8')
}

/** The certificate as DER. */
export function certificateDerExport(certificatePem: string): Buffer {
  return Buffer.from(new X509Certificate(certificatePem).raw)
}

/** The certificate followed by the CA (an imported intermediate's chain up to the root with it), all PEM (what `openssl verify -untrusted` and TLS servers read). */
export function chainExport(certificatePem: string, rootCertificatePem: string): Buffer {
  return Buffer.from(`${certificatePem.trim()}\n${rootCertificatePem.trim()}\n`, 'utf8')
}

function requirePassphrase(format: ExportFormat, passphrase: string | undefined): string {
  if (passphrase === undefined || passphrase === '') throw invalidInput(message('export.passphraseRequired', { format }))
  return passphrase
}

/**
 * The private key as PKCS#8: encrypted with AES-256-CBC under the passphrase, or plain PEM only
 * when the caller confirmed it (`plainKey`).
 */
export function privateKeyExport(privateKeyPem: string, options: CertificateExportOptions): Buffer {
  const key = createPrivateKey(privateKeyPem)
  if (options.plainKey) return Buffer.from(key.export({ type: 'pkcs8', format: 'pem' }))
  const passphrase = requirePassphrase('key', options.passphrase)
  return Buffer.from(key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }))
}

const sequence = (items: Forge.asn1.Asn1[]) => forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, items)
const set = (items: Forge.asn1.Asn1[]) => forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SET, true, items)
const oid = (name: string) =>
  forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OID, false, forge.asn1.oidToDer(forge.pki.oids[name]).getBytes())
const octets = (bytes: string) => forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, bytes)
const explicit = (item: Forge.asn1.Asn1) => forge.asn1.create(forge.asn1.Class.CONTEXT_SPECIFIC, 0, true, [item])
const der = (item: Forge.asn1.Asn1) => forge.asn1.toDer(item).getBytes()
/** A PKCS#7 ContentInfo of type data around DER bytes. */
const dataContent = (bytes: string) => sequence([oid('data'), explicit(octets(bytes))])

/** OpenSSL 3's iteration count for both the key encryption and the MAC. */
const PKCS12_ITERATIONS = 2048

/**
 * PKCS#12 with the key, the certificate and the root CA. By default the key is encrypted with
 * AES-256-CBC under PBES2/PBKDF2-HMAC-SHA256 and the file carries an HMAC-SHA256 MAC (OpenSSL 3's
 * defaults); `legacy` uses pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA1 MAC for old Windows
 * and Java key stores. Built from node-forge's ASN.1 and PBE pieces, because its own
 * `toPkcs12Asn1` takes RSA keys only and always uses a SHA-1 MAC; the key comes from Node's
 * crypto as PKCS#8, so RSA and EC keys alike.
 */
export function pkcs12Export(contents: BundleContents, options: CertificateExportOptions & { friendlyName: string }): Buffer {
  const passphrase = requirePassphrase('p12', options.passphrase)
  const certificateDer = Buffer.from(new X509Certificate(contents.certificatePem).raw).toString('binary')
  // The CA and, for an imported intermediate, its chain up to the root.
  const chainDer = pemCertificates(contents.rootCertificatePem).map((pem) => Buffer.from(new X509Certificate(pem).raw).toString('binary'))
  const keyDer = createPrivateKey(contents.privateKeyPem).export({ type: 'pkcs8', format: 'der' }).toString('binary')

  const localKeyId = forge.md.sha1.create().update(certificateDer).digest().getBytes()
  const attributes = set([
    sequence([oid('localKeyId'), set([octets(localKeyId)])]),
    sequence([
      oid('friendlyName'),
      set([forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.BMPSTRING, false, options.friendlyName)]),
    ]),
  ])
  const certificateBag = (bytes: string, bagAttributes?: Forge.asn1.Asn1) =>
    sequence([
      oid('certBag'),
      explicit(sequence([oid('x509Certificate'), explicit(octets(bytes))])),
      ...(bagAttributes ? [bagAttributes] : []),
    ])
  const encryptedKey = forge.pki.encryptPrivateKeyInfo(forge.asn1.fromDer(keyDer), passphrase, {
    algorithm: options.legacy ? '3des' : 'aes256',
    prfAlgorithm: 'sha256',
    count: PKCS12_ITERATIONS,
    saltSize: 16,
  })
  const keyBag = sequence([oid('pkcs8ShroudedKeyBag'), explicit(encryptedKey), attributes])

  const safe = sequence([
    dataContent(der(sequence([certificateBag(certificateDer, attributes), ...chainDer.map((bytes) => certificateBag(bytes))]))),
    dataContent(der(sequence([keyBag]))),
  ])
  const safeDer = der(safe)

  const md = options.legacy ? forge.md.sha1.create() : forge.md.sha256.create()
  const macSalt = forge.random.getBytesSync(16)
  const macKey = forge.pkcs12.generateKey(passphrase, forge.util.createBuffer(macSalt), 3, PKCS12_ITERATIONS, md.digestLength, md)
  const hmac = forge.hmac.create()
  hmac.start(md, macKey)
  hmac.update(safeDer)
  const macData = sequence([
    sequence([
      sequence([oid(options.legacy ? 'sha1' : 'sha256'), forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.NULL, false, '')]),
      octets(hmac.digest().getBytes()),
    ]),
    octets(macSalt),
    forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, forge.asn1.integerToDer(PKCS12_ITERATIONS).getBytes()),
  ])
  const pfx = sequence([
    forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, forge.asn1.integerToDer(3).getBytes()),
    dataContent(safeDer),
    macData,
  ])
  return Buffer.from(der(pfx), 'binary')
}
