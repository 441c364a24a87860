import { sign } from 'node:crypto'
import type * as AsnSchema from '@peculiar/asn1-schema'
import type * as Asn from '@peculiar/asn1-x509'
import { type Issuer, issuerIdentity, signatureAlgorithmDer, wholeSecond } from './certificates'
import { signatureDigest, toPem } from './keys'
import { lazyModule } from '../lazyModule'

const asn = lazyModule<typeof Asn>('@peculiar/asn1-x509')
const asnSchema = lazyModule<typeof AsnSchema>('@peculiar/asn1-schema')

/*
 * The certificate revocation list (RFC 5280 §5), a v2 CRL: built with @peculiar/asn1-x509's
 * TBSCertList and CertificateList and signed by Node's crypto, like certificates. The signature
 * algorithm identifier is Certdesk's own encoding (certificates.ts), not a library constant.
 */

const DAY_MS = 24 * 60 * 60 * 1000

interface RevokedSerial {
  /** Uppercase hex. */
  serial: string
  revokedAt: Date
  /** RFC 5280 CRLReason code. */
  reasonCode: number
}

export interface CrlRequest {
  issuer: Issuer
  crlNumber: number
  days: number
  revoked: readonly RevokedSerial[]
  now?: Date
}

export interface CrlFacts {
  der: Buffer
  pem: string
  thisUpdate: string
  nextUpdate: string
}

/** A positive INTEGER's content octets: a leading zero when the top bit is set. */
function serialBytes(serial: string): ArrayBuffer {
  const bytes = Buffer.from(serial.length % 2 === 0 ? serial : `0${serial}`, 'hex')
  const positive = bytes[0] !== undefined && bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes
  return new Uint8Array(positive).buffer
}

function extension(id: string, value: unknown, critical = false): Asn.Extension {
  return new asn.Extension({ extnID: id, critical, extnValue: new asnSchema.OctetString(asnSchema.AsnConvert.serialize(value)) })
}

/** Signs a CRL over the revoked serials with the CRL number, authority key identifier and reason codes. */
export function buildCrl(request: CrlRequest): CrlFacts {
  const now = request.now ?? new Date()
  const thisUpdate = wholeSecond(now.getTime())
  const nextUpdate = wholeSecond(now.getTime() + request.days * DAY_MS)
  const { subject, keyIdentifier } = issuerIdentity(request.issuer)
  const algorithm = asnSchema.AsnConvert.parse(signatureAlgorithmDer(request.issuer.keyType), asn.AlgorithmIdentifier)
  const revoked = [...request.revoked].sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime())
  const tbsCertList = new asn.TBSCertList({
    version: asn.Version.v2,
    signature: algorithm,
    issuer: subject,
    thisUpdate: new asn.Time(thisUpdate),
    nextUpdate: new asn.Time(nextUpdate),
    revokedCertificates:
      revoked.length === 0
        ? undefined
        : revoked.map(
            (entry) =>
              new asn.RevokedCertificate({
                userCertificate: serialBytes(entry.serial),
                revocationDate: new asn.Time(wholeSecond(entry.revokedAt.getTime())),
                crlEntryExtensions: [extension(asn.id_ce_cRLReasons, new asn.CRLReason(entry.reasonCode))],
              }),
          ),
    crlExtensions: [
      extension(asn.id_ce_authorityKeyIdentifier, new asn.AuthorityKeyIdentifier({ keyIdentifier: new asn.KeyIdentifier(keyIdentifier) })),
      extension(asn.id_ce_cRLNumber, new asn.CRLNumber(request.crlNumber)),
    ],
  })
  const tbs = Buffer.from(asnSchema.AsnConvert.serialize(tbsCertList))
  const signature = sign(signatureDigest(request.issuer.keyType), tbs, request.issuer.privateKey)
  const list = new asn.CertificateList({ tbsCertList, signatureAlgorithm: algorithm, signature: new Uint8Array(signature).buffer })
  const der = Buffer.from(asnSchema.AsnConvert.serialize(list))
  return { der, pem: toPem('X509 CRL', der), thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString() }
}
