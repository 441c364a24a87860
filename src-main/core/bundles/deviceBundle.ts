import AdmZip from 'adm-zip'

/** The seed platform's layout, which devices and their firmware scripts expect. */
export const BUNDLE_FOLDER = 'common_certs'
export const BUNDLE_ENTRIES = {
  certificate: `${BUNDLE_FOLDER}/common.crt`,
  privateKey: `${BUNDLE_FOLDER}/common.key`,
  rootCertificate: `${BUNDLE_FOLDER}/root_ca.crt`,
} as const

export interface BundleContents {
  certificatePem: string
  privateKeyPem: string
  rootCertificatePem: string
}

/** Zip's "stored" method: a few hundred bytes of PEM gain nothing from deflate. */
const STORED = 0

/**
 * A zip that unpacks to `common_certs/common.crt`, `common.key` and `root_ca.crt`. The key entry
 * carries mode 0600 so `unzip` on a Unix desk does not leave it readable by everyone.
 */
export function buildDeviceBundle(contents: BundleContents): Buffer {
  const zip = new AdmZip()
  const add = (name: string, text: string, mode: number) => {
    zip.addFile(name, Buffer.from(text, 'utf8'), '', mode).header.method = STORED
  }
  add(BUNDLE_ENTRIES.certificate, contents.certificatePem, 0o644)
  add(BUNDLE_ENTRIES.privateKey, contents.privateKeyPem, 0o600)
  add(BUNDLE_ENTRIES.rootCertificate, contents.rootCertificatePem, 0o644)
  return zip.toBuffer()
}
