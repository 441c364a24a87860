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

/**
 * A zip that unpacks to `common_certs/common.crt`, `common.key` and `root_ca.crt`. The key entry
 * carries mode 0600 so `unzip` on a Unix desk does not leave it readable by everyone.
 */
export function buildDeviceBundle(contents: BundleContents): Buffer {
  const zip = new AdmZip()
  zip.addFile(BUNDLE_ENTRIES.certificate, Buffer.from(contents.certificatePem, 'utf8'), '', 0o644)
  zip.addFile(BUNDLE_ENTRIES.privateKey, Buffer.from(contents.privateKeyPem, 'utf8'), '', 0o600)
  zip.addFile(BUNDLE_ENTRIES.rootCertificate, Buffer.from(contents.rootCertificatePem, 'utf8'), '', 0o644)
  return zip.toBuffer()
}
