// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata'
import { X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto'
import { isIP } from 'node:net'
import * as x509 from '@peculiar/x509'
import { type KeyType, isRsa, signingAlgorithm } from './keys'

// @peculiar/x509 signs through WebCrypto; Node's implementation is native (OpenSSL).
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const DAY_MS = 24 * 60 * 60 * 1000
/** Back-date notBefore a little so a device whose clock runs behind still accepts the certificate. */
const CLOCK_SKEW_MS = 5 * 60 * 1000

/** Facts about an issued certificate that the registry keeps in its index. */
export interface CertificateFacts {
  pem: string
  /** Uppercase hex, no separators, as `openssl x509 -serial` prints it. */
  serial: string
  /** SHA-256 of the DER, uppercase hex pairs joined by colons (Node's `fingerprint256` format). */
  fingerprint256: string
  subject: string
  notBefore: string
  notAfter: string
}

export interface Issuer {
  certificatePem: string
  privateKey: webcrypto.CryptoKey
  keyType: KeyType
}

/**
 * A random positive serial of 128 bits (RFC 5280 allows up to 20 octets; CA/B Forum asks for at
 * least 64 bits of randomness). The top bit is cleared so DER never needs a sign byte, and the
 * next one set so the serial always has its full length.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] & 0x7f) | 0x40
  return bytes.toString('hex').toUpperCase()
}

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  }
}

function commonNameOnly(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }]
}

export function describeCertificate(pem: string): CertificateFacts {
  const parsed = new NodeX509(pem)
  return {
    pem,
    serial: parsed.serialNumber.toUpperCase(),
    fingerprint256: parsed.fingerprint256,
    subject: parsed.subject,
    notBefore: new Date(parsed.validFrom).toISOString(),
    notAfter: new Date(parsed.validTo).toISOString(),
  }
}

export interface RootCertificateRequest {
  keys: webcrypto.CryptoKeyPair
  keyType: KeyType
  commonName: string
  days: number
  now?: Date
}

/** A self-signed root: CA:TRUE and keyCertSign+cRLSign, both critical, with a key identifier. */
export async function buildRootCertificate(request: RootCertificateRequest): Promise<CertificateFacts> {
  const { notBefore, notAfter } = validity(request.days, request.now ?? new Date())
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: commonNameOnly(request.commonName),
    notBefore,
    notAfter,
    keys: request.keys,
    signingAlgorithm: signingAlgorithm(request.keyType),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(request.keys.publicKey),
    ],
  })
  return describeCertificate(certificate.toString('pem'))
}

export type CertificateProfile =
  /** A device's client certificate, for mutual TLS. */
  | { kind: 'device' }
  /** A broker's server certificate; names become subject alternative names. */
  | { kind: 'server'; names: string[] }

export interface IssueRequest {
  commonName: string
  publicKey: webcrypto.CryptoKey
  subjectKeyType: KeyType
  issuer: Issuer
  days: number
  profile: CertificateProfile
  now?: Date
}

function authorityKeyIdentifier(issuerPem: string): x509.AuthorityKeyIdentifierExtension {
  const issuer = new x509.X509Certificate(issuerPem)
  const subjectKeyId = issuer.getExtension(x509.SubjectKeyIdentifierExtension)
  if (!subjectKeyId) throw new Error('The issuing certificate has no subject key identifier.')
  return new x509.AuthorityKeyIdentifierExtension(subjectKeyId.keyId)
}

/**
 * An end-entity certificate signed by the issuer: CA:FALSE, digitalSignature (+ keyEncipherment
 * for RSA keys, which RSA key exchange in TLS 1.2 needs), clientAuth or serverAuth, and both key
 * identifiers so chain building never falls back to name matching.
 */
export async function issueCertificate(request: IssueRequest): Promise<CertificateFacts> {
  const { notBefore, notAfter } = validity(request.days, request.now ?? new Date())
  const issuer = new x509.X509Certificate(request.issuer.certificatePem)
  let usages = x509.KeyUsageFlags.digitalSignature
  if (isRsa(request.subjectKeyType)) usages |= x509.KeyUsageFlags.keyEncipherment
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension(
      [request.profile.kind === 'device' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
    authorityKeyIdentifier(request.issuer.certificatePem),
  ]
  if (request.profile.kind === 'server') {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        request.profile.names.map((name): x509.JsonGeneralName => ({ type: isIP(name) ? 'ip' : 'dns', value: name })),
        false,
      ),
    )
  }
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: commonNameOnly(request.commonName),
    issuer: issuer.subjectName,
    notBefore,
    notAfter,
    publicKey: request.publicKey,
    signingKey: request.issuer.privateKey,
    signingAlgorithm: signingAlgorithm(request.issuer.keyType),
    extensions,
  })
  return describeCertificate(certificate.toString('pem'))
}
