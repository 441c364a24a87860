// Reading a bundle back with the layout it is written with: no keys generated, no files.
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { BUNDLE_ENTRIES, buildBrokerBundle, buildDeviceBundle, readBundleZip } from '../../../src-main/core/bundles/deviceBundle'

const contents = { certificatePem: 'CERTIFICATE PEM\n', privateKeyPem: 'PRIVATE KEY PEM\n', rootCertificatePem: 'ROOT PEM\n' }
const read = contents

function zipOf(files: Record<string, string>): Buffer {
  const zip = new AdmZip()
  for (const [name, text] of Object.entries(files)) zip.addFile(name, Buffer.from(text))
  return zip.toBuffer()
}

describe('reading a device bundle', () => {
  it('reads what buildDeviceBundle writes', () => {
    expect(readBundleZip(buildDeviceBundle(contents))).toEqual(read)
  })

  it('finds the layout inside a folder, as when the unpacked folder was zipped again', () => {
    const zip = zipOf({
      'pump-0001/common_certs/common.crt': contents.certificatePem,
      'pump-0001/common_certs/common.key': contents.privateKeyPem,
      'pump-0001/common_certs/root_ca.crt': contents.rootCertificatePem,
      'pump-0001/README.txt': 'extra files do not matter',
    })
    expect(readBundleZip(zip)).toEqual(read)
  })

  it('names the entry that is missing', () => {
    const { [BUNDLE_ENTRIES.privateKey]: _key, ...withoutKey } = {
      [BUNDLE_ENTRIES.certificate]: contents.certificatePem,
      [BUNDLE_ENTRIES.privateKey]: contents.privateKeyPem,
      [BUNDLE_ENTRIES.rootCertificate]: contents.rootCertificatePem,
    }
    expect(() => readBundleZip(zipOf(withoutKey))).toThrow('The zip has no common_certs/common.key; it is not a Certdesk bundle.')
    // A file merely named like an entry is not one.
    expect(() => readBundleZip(zipOf({ ...withoutKey, 'other_common.key': 'x' }))).toThrow('The zip has no common_certs/common.key')
    expect(() => readBundleZip(buildBrokerBundle(contents))).toThrow(
      'The zip has no common_certs/root_ca.crt; it is not a Certdesk bundle.',
    )
  })

  it('refuses a file that is not a zip', () => {
    expect(() => readBundleZip(Buffer.from('not a zip'))).toThrow('The file is not a zip archive.')
  })
})
