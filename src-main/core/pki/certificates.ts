import { type KeyObject, X509Certificate as NodeX509, createHash, randomBytes, sign } from 'node:crypto'
import { isIP } from 'node:net'
import type * as AsnSchema from '@peculiar/asn1-schema'
import type * as Asn from '@peculiar/asn1-x509'
import type * as Asn1js from 'asn1js'
import { type KeyType, isRsa, signatureDigest, toPem } from './keys'
import { CERTIFICATE_PROFILES, type CertificateProfileSpec, EXTENDED_KEY_USAGES } from './profiles'
import { lazyModule } from '../lazyModule'

const asn = lazyModule<typeof Asn>('@peculiar/asn1-x509')
const asn1js = lazyModule<typeof Asn1js>('asn1js')
const asnSchema = lazyModule<typeof AsnSchema>('@peculiar/asn1-schema')

/*
 * Certificates are built with @peculiar/asn1-x509 (RFC 5280's schema) and asn1js (its DER
 * encoder), and signed by Node's native crypto. Parts that do not change from one certificate to
 * the next — the issuer's name, the profile's extensions, the signature algorithm — are encoded
 * once and reused as raw DER, so issuing one costs about a millisecond of JavaScript. The
 * higher-level @peculiar/x509 builder was measured at ~9 ms per certificate (README,
 * "Certificate builder").
 */

const DAY_MS = 24 * 60 * 60 * 1000
/** Back-date notBefore a little so a device whose clock runs behind still accepts the certificate. */
const CLOCK_SKEW_MS = 5 * 60 * 1000
const OID_COMMON_NAME = '2.5.4.3'
const OID_COUNTRY = '2.5.4.6'
const OID_ORGANIZATION = '2.5.4.10'
const OID_ORGANIZATIONAL_UNIT = '2.5.4.11'
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11'
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3'

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
  privateKey: KeyObject
  keyType: KeyType
  /** An http(s) URL written as a non-critical cRLDistributionPoints extension (fullName URI), when set. */
  crlDistributionPoint?: string
}

/**
 * A random positive 128-bit serial carrying 126 random bits (RFC 5280 allows up to 20 octets;
 * CA/B Forum asks for at least 64 bits of randomness). The top bit is cleared so DER never needs a
 * sign byte, and the next one set so the serial always has its full length.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] & 0x7f) | 0x40
  return bytes.toString('hex').toUpperCase()
}

/** X.509 times have whole seconds; round here so the index says what the certificate (or CRL) says. */
export const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000)

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  return { notBefore: wholeSecond(now.getTime() - CLOCK_SKEW_MS), notAfter: wholeSecond(now.getTime() + days * DAY_MS) }
}

/** A certificate's subject: the common name, and the organisation fields a profile may add. */
interface SubjectFields {
  commonName: string
  organization?: string
  organizationalUnit?: string
  /** ISO 3166 two-letter code. */
  country?: string
}

function relativeName(oid: string, value: Asn1js.BaseBlock): Asn1js.Set {
  return new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), value] })] })
}

/**
 * A Name, one RDN per attribute from the widest (C, O, OU) to the common name, as OpenSSL orders
 * them; UTF8String but for the country, which RFC 5280 requires as PrintableString. A common
 * name alone encodes exactly as before profiles existed.
 */
function subjectName(fields: SubjectFields): Asn1js.Sequence {
  const names: Asn1js.Set[] = []
  if (fields.country) names.push(relativeName(OID_COUNTRY, new asn1js.PrintableString({ value: fields.country })))
  if (fields.organization) names.push(relativeName(OID_ORGANIZATION, new asn1js.Utf8String({ value: fields.organization })))
  if (fields.organizationalUnit) {
    names.push(relativeName(OID_ORGANIZATIONAL_UNIT, new asn1js.Utf8String({ value: fields.organizationalUnit })))
  }
  names.push(relativeName(OID_COMMON_NAME, new asn1js.Utf8String({ value: fields.commonName })))
  return new asn1js.Sequence({ value: names })
}

/** The subject as one line, widest first: "C=DE, O=Acme, CN=sensor-1". */
function subjectText(fields: SubjectFields): string {
  const parts = [
    fields.country && `C=${fields.country}`,
    fields.organization && `O=${fields.organization}`,
    fields.organizationalUnit && `OU=${fields.organizationalUnit}`,
    `CN=${fields.commonName}`,
  ]
  return parts.filter(Boolean).join(', ')
}

function der(value: unknown): Buffer {
  return Buffer.from(asnSchema.AsnConvert.serialize(value))
}

function extension(id: string, critical: boolean, value: unknown): Asn1js.BaseBlock {
  return decoded(
    der(new asn.Extension({ extnID: id, critical, extnValue: new asnSchema.OctetString(asnSchema.AsnConvert.serialize(value)) })),
  )
}

/** The one extension that differs per certificate, encoded straight with asn1js (it is hot). */
function subjectKeyIdentifierExtension(keyIdentifier: Buffer): Asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: asn.id_ce_subjectKeyIdentifier }),
      new asn1js.OctetString({ valueHex: new asn1js.OctetString({ valueHex: keyIdentifier }).toBER() }),
    ],
  })
}

function colonHex(bytes: Buffer): string {
  return (bytes.toString('hex').toUpperCase().match(/../g) ?? []).join(':')
}

/** DER decoded once into asn1js blocks, which can then be placed in any number of certificates. */
const decoded = (bytes: Uint8Array) => asn1js.fromBER(bytes).result as Asn1js.BaseBlock

/** The DER SubjectPublicKeyInfo of a key and its key identifier. */
function publicKeyParts(publicKey: KeyObject): { spki: Asn1js.BaseBlock; keyIdentifier: Buffer } {
  const spki = decoded(publicKey.export({ type: 'spki', format: 'der' })) as Asn1js.Sequence
  const bits = spki.valueBlock.value[1] as Asn1js.BitString
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, as OpenSSL computes it.
  const keyIdentifier = createHash('sha1').update(bits.valueBlock.valueHexView.subarray(0)).digest()
  return { spki, keyIdentifier }
}

/**
 * RSA's algorithm identifier carries an explicit NULL, ECDSA's none (RFC 4055, RFC 5758).
 * (Not @peculiar/asn1-rsa's constant: in 2.11.1 its sha256WithRSAEncryption names SHA-512/256.)
 */
const signatureAlgorithms = new Map<KeyType, Asn1js.BaseBlock>()

function signatureAlgorithm(keyType: KeyType): Asn1js.BaseBlock {
  let algorithm = signatureAlgorithms.get(keyType)
  if (!algorithm) {
    algorithm = decoded(
      der(
        isRsa(keyType)
          ? new asn.AlgorithmIdentifier({ algorithm: OID_SHA256_WITH_RSA, parameters: null })
          : new asn.AlgorithmIdentifier({ algorithm: keyType === 'ec-p384' ? OID_ECDSA_WITH_SHA384 : OID_ECDSA_WITH_SHA256 }),
      ),
    )
    signatureAlgorithms.set(keyType, algorithm)
  }
  return algorithm
}

/** The same identifier as DER, for other signed structures (the CRL) to place as they are. */
export function signatureAlgorithmDer(keyType: KeyType): Buffer {
  return Buffer.from(signatureAlgorithm(keyType).toBER())
}

function time(date: Date): Asn1js.UTCTime | Asn1js.GeneralizedTime {
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050 ? new asn1js.UTCTime({ valueDate: date }) : new asn1js.GeneralizedTime({ valueDate: date })
}

interface CertificateBody {
  subject: Asn1js.BaseBlock
  subjectText: string
  /** The issuer's Name; for a root, undefined (the subject is the issuer). */
  issuerName?: Asn1js.BaseBlock
  spki: Asn1js.BaseBlock
  days: number
  now: Date
  /** Each Extension, in order. */
  extensions: Asn1js.BaseBlock[]
  signer: { privateKey: KeyObject; keyType: KeyType }
}

/** Encodes the TBSCertificate, signs it natively, and wraps both into the certificate. */
function signCertificate(body: CertificateBody): CertificateFacts {
  const { notBefore, notAfter } = validity(body.days, body.now)
  const serial = randomSerialNumber()
  const algorithm = signatureAlgorithm(body.signer.keyType)
  const subject = body.subject
  const tbsCertificate = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }),
      new asn1js.Integer({ valueHex: Buffer.from(serial, 'hex') }),
      algorithm,
      body.issuerName ?? subject,
      new asn1js.Sequence({ value: [time(notBefore), time(notAfter)] }),
      subject,
      body.spki,
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 },
        value: [new asn1js.Sequence({ value: body.extensions })],
      }),
    ],
  })
  const tbs = Buffer.from(tbsCertificate.toBER())
  // ECDSA signatures come out DER-encoded, which is what X.509 carries.
  const signature = sign(signatureDigest(body.signer.keyType), tbs, body.signer.privateKey)
  const certificate = Buffer.from(
    new asn1js.Sequence({ value: [tbsCertificate, algorithm, new asn1js.BitString({ valueHex: signature })] }).toBER(),
  )
  return {
    pem: toPem('CERTIFICATE', certificate),
    serial,
    fingerprint256: colonHex(createHash('sha256').update(certificate).digest()),
    subject: body.subjectText,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  }
}

export interface RootCertificateRequest {
  keys: { publicKey: KeyObject; privateKey: KeyObject }
  keyType: KeyType
  commonName: string
  days: number
  now?: Date
}

/** A self-signed root: CA:TRUE and keyCertSign+cRLSign, both critical, with a key identifier. */
export function buildRootCertificate(request: RootCertificateRequest): CertificateFacts {
  const { spki, keyIdentifier } = publicKeyParts(request.keys.publicKey)
  const subject = { commonName: request.commonName }
  return signCertificate({
    subject: subjectName(subject),
    subjectText: subjectText(subject),
    spki,
    days: request.days,
    now: request.now ?? new Date(),
    signer: { privateKey: request.keys.privateKey, keyType: request.keyType },
    extensions: [...constraintExtensions(CERTIFICATE_PROFILES.root, request.keyType), subjectKeyIdentifierExtension(keyIdentifier)],
  })
}

type CertificateProfile =
  /** A device's client certificate, for mutual TLS, as Certdesk's default profile makes it. */
  | { kind: 'device' }
  /** A broker's server certificate; names become subject alternative names. */
  | { kind: 'server'; names: string[] }
  /**
   * A device certificate shaped by an operator's profile: its usages, and alternative names
   * already filled in, each as `dns:`, `uri:`, `email:` or `ip:` and the value.
   */
  | { kind: 'custom'; spec: CertificateProfileSpec; subjectAltNames: string[] }

export interface IssueRequest {
  commonName: string
  /** Organisation fields beside the common name (a profile's O, OU, C). */
  subjectFields?: Omit<SubjectFields, 'commonName'>
  publicKey: KeyObject
  subjectKeyType: KeyType
  issuer: Issuer
  days: number
  profile: CertificateProfile
  now?: Date
}

interface ParsedIssuer {
  /** The issuer's subject and key identifier (SHA-1 of its public key), for other signed structures (the CRL). */
  subject: Asn.Name
  keyIdentifier: Buffer
  name: Asn1js.BaseBlock
  authorityKeyIdentifier: Asn1js.BaseBlock
  /** Extensions shared by every certificate of one profile, by profile key. */
  profiles: Map<string, Asn1js.BaseBlock[]>
}

/** The issuer is parsed once per issuer object, not once per certificate. */
const parsedIssuers = new WeakMap<Issuer, ParsedIssuer>()

function parseIssuer(issuer: Issuer): ParsedIssuer {
  let parsed = parsedIssuers.get(issuer)
  if (!parsed) {
    const tbs = asnSchema.AsnConvert.parse(new NodeX509(issuer.certificatePem).raw, asn.Certificate).tbsCertificate
    // The issuer's own subjectKeyIdentifier when it has one (an imported CA may have computed it
    // another way, and OpenSSL matches AKI to SKI byte for byte); else SHA-1 of its public key.
    const ownIdentifier = tbs.extensions?.find((candidate) => candidate.extnID === asn.id_ce_subjectKeyIdentifier)
    const keyIdentifier = ownIdentifier
      ? Buffer.from(asnSchema.AsnConvert.parse(ownIdentifier.extnValue.buffer, asn.SubjectKeyIdentifier).buffer)
      : createHash('sha1').update(Buffer.from(tbs.subjectPublicKeyInfo.subjectPublicKey)).digest()
    parsed = {
      subject: tbs.subject,
      keyIdentifier,
      name: decoded(der(tbs.subject)),
      authorityKeyIdentifier: extension(
        asn.id_ce_authorityKeyIdentifier,
        false,
        new asn.AuthorityKeyIdentifier({ keyIdentifier: new asn.KeyIdentifier(keyIdentifier) }),
      ),
      profiles: new Map(),
    }
    parsedIssuers.set(issuer, parsed)
  }
  return parsed
}

/** The issuer's subject name and key identifier, parsed once per issuer like for certificates. */
export function issuerIdentity(issuer: Issuer): { subject: Asn.Name; keyIdentifier: Buffer } {
  const { subject, keyIdentifier } = parseIssuer(issuer)
  return { subject, keyIdentifier }
}

/**
 * Basic constraints, key usage and extended key usage as the profile table says (both critical
 * but the last); keyEncipherment joins digitalSignature for RSA keys, which RSA key exchange in
 * TLS 1.2 needs.
 */
function constraintExtensions(profile: CertificateProfileSpec, keyType: KeyType): Asn1js.BaseBlock[] {
  const constraints = profile.basicConstraints.ca
    ? new asn.BasicConstraints({ cA: true, pathLenConstraint: profile.basicConstraints.pathLength })
    : new asn.BasicConstraints({ cA: false })
  let usages = profile.keyUsage.reduce((flags, usage) => flags | asn.KeyUsageFlags[usage], 0)
  if (isRsa(keyType) && profile.keyUsage.includes('digitalSignature') && !profile.basicConstraints.ca)
    usages |= asn.KeyUsageFlags.keyEncipherment
  return [
    extension(asn.id_ce_basicConstraints, true, constraints),
    extension(asn.id_ce_keyUsage, true, new asn.KeyUsage(usages)),
    ...(profile.extendedKeyUsage?.length
      ? [
          extension(
            asn.id_ce_extKeyUsage,
            false,
            new asn.ExtendedKeyUsage(profile.extendedKeyUsage.map((usage) => EXTENDED_KEY_USAGES[usage])),
          ),
        ]
      : []),
  ]
}

/** The same for every certificate of a profile and key family: encoded once per issuer. */
function profileExtensions(issuer: ParsedIssuer, profile: CertificateProfile, keyType: KeyType): Asn1js.BaseBlock[] {
  const spec = profile.kind === 'custom' ? profile.spec : CERTIFICATE_PROFILES[profile.kind]
  // Operators' profiles are keyed by what they encode, so two alike share one encoding.
  const usages = profile.kind === 'custom' ? `${spec.keyUsage.join()}/${spec.extendedKeyUsage?.join()}` : ''
  const key = `${profile.kind}:${usages}:${isRsa(keyType) ? 'rsa' : 'ec'}`
  let extensions = issuer.profiles.get(key)
  if (!extensions) {
    extensions = constraintExtensions(spec, keyType)
    issuer.profiles.set(key, extensions)
  }
  return extensions
}

function subjectAlternativeName(names: string[]): Asn.SubjectAlternativeName {
  return new asn.SubjectAlternativeName(names.map((name) => new asn.GeneralName(isIP(name) ? { iPAddress: name } : { dNSName: name })))
}

/** A profile's typed alternative names (`dns:…`, `uri:…`, `email:…`, `ip:…`) as GeneralNames. */
function typedAlternativeNames(names: string[]): Asn.SubjectAlternativeName {
  return new asn.SubjectAlternativeName(
    names.map((entry) => {
      const colon = entry.indexOf(':')
      const [kind, value] = [entry.slice(0, colon), entry.slice(colon + 1)]
      if (kind === 'uri') return new asn.GeneralName({ uniformResourceIdentifier: value })
      if (kind === 'email') return new asn.GeneralName({ rfc822Name: value })
      if (kind === 'ip') return new asn.GeneralName({ iPAddress: value })
      return new asn.GeneralName({ dNSName: value })
    }),
  )
}

/** RFC 5280 §4.2.1.13, non-critical: one DistributionPoint whose fullName is the URI. Encoded once per issuer and URL. */
function crlDistributionPointExtension(issuer: ParsedIssuer, url: string): Asn1js.BaseBlock {
  const key = `crl:${url}`
  let encoded = issuer.profiles.get(key)
  if (!encoded) {
    const point = new asn.DistributionPoint({
      distributionPoint: new asn.DistributionPointName({ fullName: [new asn.GeneralName({ uniformResourceIdentifier: url })] }),
    })
    encoded = [extension(asn.id_ce_cRLDistributionPoints, false, new asn.CRLDistributionPoints([point]))]
    issuer.profiles.set(key, encoded)
  }
  return encoded[0]
}

/**
 * An end-entity certificate signed by the issuer, with the profile's extensions and both key
 * identifiers, so chain building never falls back to name matching.
 */
export function issueCertificate(request: IssueRequest): CertificateFacts {
  const issuer = parseIssuer(request.issuer)
  const { spki, keyIdentifier } = publicKeyParts(request.publicKey)
  const extensions = [
    ...profileExtensions(issuer, request.profile, request.subjectKeyType),
    subjectKeyIdentifierExtension(keyIdentifier),
    issuer.authorityKeyIdentifier,
  ]
  // A server's names (host names and addresses) go into subjectAltName.
  if (request.profile.kind === 'server') {
    extensions.push(extension(asn.id_ce_subjectAltName, false, subjectAlternativeName(request.profile.names)))
  }
  if (request.profile.kind === 'custom' && request.profile.subjectAltNames.length > 0) {
    extensions.push(extension(asn.id_ce_subjectAltName, false, typedAlternativeNames(request.profile.subjectAltNames)))
  }
  const subject = { ...request.subjectFields, commonName: request.commonName }
  if (request.issuer.crlDistributionPoint !== undefined) {
    extensions.push(crlDistributionPointExtension(issuer, request.issuer.crlDistributionPoint))
  }
  return signCertificate({
    subject: subjectName(subject),
    subjectText: subjectText(subject),
    issuerName: issuer.name,
    spki,
    days: request.days,
    now: request.now ?? new Date(),
    signer: { privateKey: request.issuer.privateKey, keyType: request.issuer.keyType },
    extensions,
  })
}

export interface ReissueRequest {
  /** The certificate being renewed: its subject and extensions are carried over. */
  previousPem: string
  publicKey: KeyObject
  issuer: Issuer
  days: number
  now?: Date
}

/**
 * A renewal: the previous certificate's subject and extensions (usages, alternative names)
 * unchanged, so a broker that maps the subject to a user sees the same device; a new serial,
 * validity and key identifiers (the key may be new, the issuer's too), and the CA's CRL
 * distribution point as it is set now.
 */
export function reissueCertificate(request: ReissueRequest): CertificateFacts {
  const issuer = parseIssuer(request.issuer)
  const previous = new NodeX509(request.previousPem)
  const tbs = asnSchema.AsnConvert.parse(previous.raw, asn.Certificate).tbsCertificate
  const { spki, keyIdentifier } = publicKeyParts(request.publicKey)
  const extensions = (tbs.extensions ?? [])
    // Where the CRL is published is the CA's setting today, not what it was then.
    .filter((carried) => carried.extnID !== asn.id_ce_cRLDistributionPoints)
    .map((carried) => {
      if (carried.extnID === asn.id_ce_subjectKeyIdentifier) return subjectKeyIdentifierExtension(keyIdentifier)
      if (carried.extnID === asn.id_ce_authorityKeyIdentifier) return issuer.authorityKeyIdentifier
      return decoded(der(carried))
    })
  if (request.issuer.crlDistributionPoint !== undefined) {
    extensions.push(crlDistributionPointExtension(issuer, request.issuer.crlDistributionPoint))
  }
  return signCertificate({
    subject: decoded(der(tbs.subject)),
    subjectText: previous.subject.split('\n').join(', '),
    issuerName: issuer.name,
    spki,
    days: request.days,
    now: request.now ?? new Date(),
    signer: { privateKey: request.issuer.privateKey, keyType: request.issuer.keyType },
    extensions,
  })
}
