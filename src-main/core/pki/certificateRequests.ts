import { type KeyObject, createPublicKey, verify } from 'node:crypto'
import type * as AsnCsr from '@peculiar/asn1-csr'
import type * as AsnSchema from '@peculiar/asn1-schema'
import type * as Asn from '@peculiar/asn1-x509'
import { invalidInput } from '../errors'
import { message } from '../messages'
import { KEY_TYPES, type KeyType, keyTypeOf } from './keys'
import { lazyModule } from '../lazyModule'

const asn = lazyModule<typeof Asn>('@peculiar/asn1-x509')
const asnSchema = lazyModule<typeof AsnSchema>('@peculiar/asn1-schema')
const asnCsr = lazyModule<typeof AsnCsr>('@peculiar/asn1-csr')

/*
 * A device's own certificate signing request (PKCS#10, RFC 2986), parsed with @peculiar/asn1-csr
 * (the same ASN.1 family as the certificates) and its signature checked with Node's crypto. Only
 * the public key is taken from it: the subject and extensions a device asks for are reported, and
 * Certdesk's profile decides what the certificate says.
 */

/** Signature algorithms a request may be signed with, by OID: the digest Node verifies with. */
const REQUEST_SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
}

/** Names of the extensions a request may ask for, for the operator's report. */
const EXTENSION_NAMES: Record<string, string> = {
  // The OIDs written out (id-ce 29, 17, 15…), not read from @peculiar/asn1-x509 at start-up.
  '2.5.29.17': 'subjectAltName',
  '2.5.29.15': 'keyUsage',
  '2.5.29.37': 'extendedKeyUsage',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.14': 'subjectKeyIdentifier',
}
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14'

export interface CertificateRequestFacts {
  publicKey: KeyObject
  keyType: KeyType
  /** The subject the device asked for, as one line ("CN=sensor-1, O=Acme"); not used. */
  requestedSubject: string
  /** The extensions the device asked for, by name; none is copied into the certificate. */
  requestedExtensions: string[]
}

function requestDer(text: string): Buffer {
  const pem = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(text)
  if (pem) return Buffer.from(pem[1].replace(/\s+/g, ''), 'base64')
  throw invalidInput(message('csr.notPem'))
}

/** The subject as one line, widest first as the request lists it: "C=DE, O=Acme, CN=sensor-1". */
function nameText(name: Asn.Name): string {
  return name
    .map((set) =>
      set
        .map((attribute) => {
          const label = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.10': 'O', '2.5.4.11': 'OU' }[attribute.type] ?? attribute.type
          return `${label}=${attribute.value.toString()}`
        })
        .join('+'),
    )
    .join(', ')
}

/**
 * Parses a PEM request and checks its self-signature (proof that the device holds the key):
 * one sentence for anything that is not a request, is signed wrongly or holds a key type
 * Certdesk does not issue for.
 */
export function parseCertificateRequest(text: string): CertificateRequestFacts {
  const der = requestDer(text)
  let request: AsnCsr.CertificationRequest
  try {
    request = asnSchema.AsnConvert.parse(der, asnCsr.CertificationRequest)
  } catch {
    throw invalidInput(message('csr.unreadable'))
  }
  const info = request.certificationRequestInfo
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: Buffer.from(asnSchema.AsnConvert.serialize(info.subjectPKInfo)), format: 'der', type: 'spki' })
  } catch {
    throw invalidInput(message('csr.unreadable'))
  }
  const keyType = keyTypeOf(publicKey)
  if (!keyType) throw invalidInput(message('csr.unsupportedKey', { choices: KEY_TYPES.join(', ') }))
  const digest = REQUEST_SIGNATURES[request.signatureAlgorithm.algorithm]
  if (!digest) throw invalidInput(message('csr.unsupportedSignature', { algorithm: request.signatureAlgorithm.algorithm }))
  const signed = Buffer.from(asnSchema.AsnConvert.serialize(info))
  if (!verify(digest, signed, publicKey, Buffer.from(request.signature))) throw invalidInput(message('csr.badSignature'))
  const requestedExtensions: string[] = []
  for (const attribute of info.attributes) {
    if (attribute.type !== OID_EXTENSION_REQUEST) continue
    for (const value of attribute.values) {
      let requested: Asn.Extension[]
      try {
        requested = asnSchema.AsnConvert.parse(value, asn.Extensions)
      } catch {
        // Signed by the device's key, yet not what PKCS#9 says an extension request is.
        throw invalidInput(message('csr.unreadable'))
      }
      for (const extension of requested) requestedExtensions.push(EXTENSION_NAMES[extension.extnID] ?? extension.extnID)
    }
  }
  return { publicKey, keyType, requestedSubject: nameText(info.subject), requestedExtensions }
}
