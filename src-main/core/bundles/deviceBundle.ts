import type AdmZip from 'adm-zip'
import { invalidInput } from '../errors'
import { message } from '../messages'
import { lazyExport } from '../lazyModule'

const admZip = lazyExport<typeof AdmZip>('adm-zip')

/** The seed platform's layout, which devices and their firmware scripts expect. */
const BUNDLE_FOLDER = 'common_certs'
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
 * A zip of certificate, key and root under one folder. The key entry carries mode 0600 so
 * `unzip` on a Unix desk does not leave it readable by everyone.
 */
function buildCertificateZip(entries: { certificate: string; privateKey: string; rootCertificate: string }, contents: BundleContents) {
  const zip = new (admZip())()
  const add = (name: string, text: string, mode: number) => {
    zip.addFile(name, Buffer.from(text, 'utf8'), '', mode).header.method = STORED
  }
  add(entries.certificate, contents.certificatePem, 0o644)
  add(entries.privateKey, contents.privateKeyPem, 0o600)
  add(entries.rootCertificate, contents.rootCertificatePem, 0o644)
  return zip.toBuffer()
}

/** Beside a certificate signed from a device's request, where `common.key` would be. */
const KEYLESS_BUNDLE_NOTE = `${BUNDLE_FOLDER}/KEY-STAYS-ON-DEVICE.txt`
const KEYLESS_NOTE_TEXT =
  "This certificate was signed from the device's own certificate signing request.\n" +
  'Its private key never left the device, so this bundle has no common.key: install\n' +
  'common.crt and root_ca.crt next to the key the device already holds.\n'

/**
 * The seed's bundle: `common_certs/common.crt`, `common.key` and `root_ca.crt`. Without a private
 * key (a signed request), a note says the key stays on the device instead.
 */
export function buildDeviceBundle(contents: Omit<BundleContents, 'privateKeyPem'> & { privateKeyPem: string | null }): Buffer {
  if (contents.privateKeyPem !== null) return buildCertificateZip(BUNDLE_ENTRIES, { ...contents, privateKeyPem: contents.privateKeyPem })
  return buildCertificateZip({ ...BUNDLE_ENTRIES, privateKey: KEYLESS_BUNDLE_NOTE }, { ...contents, privateKeyPem: KEYLESS_NOTE_TEXT })
}

/**
 * Reads a device bundle the user chose (the tester's "load bundle"): the entries of
 * BUNDLE_ENTRIES, at the top of the zip or inside a folder (a zip of the unpacked bundle).
 */
export function readBundleZip(zip: Buffer): BundleContents {
  let entries: AdmZip.IZipEntry[]
  try {
    entries = new (admZip())(zip).getEntries()
  } catch {
    throw invalidInput(message('bundle.notZip'))
  }
  const find = (path: string) => {
    const entry = entries.find((e) => e.entryName === path || e.entryName.endsWith(`/${path}`))
    if (!entry) throw invalidInput(message('bundle.missingEntry', { path }))
    return entry.getData().toString('utf8')
  }
  return {
    rootCertificatePem: find(BUNDLE_ENTRIES.rootCertificate),
    certificatePem: find(BUNDLE_ENTRIES.certificate),
    privateKeyPem: find(BUNDLE_ENTRIES.privateKey),
  }
}

/** The broker's certificate, key and root, for configuring a real broker (mosquitto, EMQX). */
const BROKER_BUNDLE_ENTRIES = {
  certificate: 'broker_certs/server.crt',
  privateKey: 'broker_certs/server.key',
  rootCertificate: 'broker_certs/root_ca.crt',
} as const

export function buildBrokerBundle(contents: BundleContents): Buffer {
  return buildCertificateZip(BROKER_BUNDLE_ENTRIES, contents)
}
