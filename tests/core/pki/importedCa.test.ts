import { X509Certificate } from 'node:crypto'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { isCertdeskError } from '../../../src-main/core/errors'
import { type ImportedCaInput, pemCertificates, readImportedCa } from '../../../src-main/core/pki/importedCa'
import { Workspace } from '../../../src-main/core/workspace'
import { type ExternalCa, encryptKey, exportPkcs12, makeExpiredRoot, makeIntermediate, makeRoot } from '../../helpers/externalCa'
import { unpackBundle } from '../../helpers/fleet'
import { openssl, temporaryFolder } from '../../helpers/tools'
import { storedRecords } from '../../helpers/storedRegistry'

let dir: string
let ecRoot: ExternalCa
let rsaRoot: ExternalCa
let intermediate: ExternalCa

const text = (path: string) => readFile(path, 'utf8')
const pemInput = async (ca: ExternalCa, extra: Partial<Extract<ImportedCaInput, { certificatePem: string }>> = {}) => ({
  certificatePem: await text(ca.certificate),
  privateKeyPem: await text(ca.key),
  ...extra,
})

/** The one sentence `work` is refused with (INVALID_INPUT unless said otherwise). */
async function refusal(work: () => unknown, code = 'INVALID_INPUT'): Promise<string> {
  try {
    await work()
  } catch (error) {
    if (!isCertdeskError(error)) throw error
    expect(error.code).toBe(code)
    expect(error.message.split('\n')).toHaveLength(1)
    return error.message
  }
  throw new Error('not refused')
}

/** Issues a device certificate, unpacks its bundle, and checks it with openssl against the bundle's root_ca.crt. */
async function verifyIssuedBundle(workspace: Workspace, name: string): Promise<string> {
  const certificate = await workspace.issueDeviceCertificate({ name, days: 30 })
  const bundle = await unpackBundle(workspace, certificate.id, join(dir, `bundle-${name}`))
  const certs = join(bundle, 'common_certs')
  expect(await openssl(['verify', '-CAfile', join(certs, 'root_ca.crt'), join(certs, 'common.crt')])).toMatch(/: OK/)
  return certs
}

beforeAll(async () => {
  dir = await temporaryFolder('certdesk-import-')
  // An SKI that is not SHA-1 of the key: issued certificates must carry it as their AKI.
  ecRoot = await makeRoot(dir, 'ec-root', { key: 'ec', ski: '01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10' })
  rsaRoot = await makeRoot(dir, 'rsa-root', { key: 'rsa' })
  intermediate = await makeIntermediate(dir, 'fleet-intermediate', ecRoot, { key: 'rsa' })
})

describe('importing an existing CA', () => {
  it('imports a self-signed EC root: its key sealed, origin imported, devices and CRL verified by openssl', async () => {
    const dataDir = join(dir, 'data-ec')
    const importedAt = Math.floor(Date.now() / 1000)
    const workspace = await Workspace.initialise(dataDir, { imported: await pemInput(ecRoot), actor: 'cli' })
    const root = workspace.getRootCa()
    const original = new X509Certificate(await text(ecRoot.certificate))
    expect(root).toMatchObject({ keyType: 'ec-p256', fingerprint256: original.fingerprint256, commonName: 'ec-root', origin: 'imported' })
    expect(root.subject).toBe('O=Example Fleet, CN=ec-root')
    expect(workspace.snapshot().rootCa).toMatchObject({ origin: 'imported', commonName: 'ec-root' })
    // CRL numbers go on growing from wherever the CA left them: they start from the import's time.
    expect(workspace.snapshot().rootCa?.crlNumber).toBeGreaterThanOrEqual(importedAt)
    // Sealed like a generated key: the record holds no PEM private key, only a sealed one.
    const record = storedRecords(dataDir)['root-ca']
    expect(JSON.stringify(record)).not.toMatch(/PRIVATE KEY/)
    expect(record.privateKey).toMatchObject({ format: 'aes-256-gcm' })
    expect(workspace.getAuditLog().entries[0]).toMatchObject({ action: 'ca.import' })

    const certs = await verifyIssuedBundle(workspace, 'ec-device')
    expect(await text(join(certs, 'root_ca.crt'))).toBe(original.toString())
    // The issued certificate's AKI is the root's own (unusual) SKI.
    expect(await openssl(['x509', '-in', join(certs, 'common.crt'), '-noout', '-ext', 'authorityKeyIdentifier'])).toMatch(
      /01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10/,
    )

    const device = workspace.listCertificates()[0]
    await workspace.revokeCertificate(device.id, 'keyCompromise')
    const crl = await workspace.generateCrl({ days: 7 })
    const crlPath = join(dir, 'ec.crl')
    await writeFile(crlPath, crl.pem)
    await openssl(['crl', '-in', crlPath, '-CAfile', ecRoot.certificate, '-verify', '-noout'])
    expect(await openssl(['crl', '-in', crlPath, '-noout', '-crlnumber'])).toBe(`crlNumber=0x${crl.crlNumber.toString(16).toUpperCase()}\n`)
    expect(crl.crlNumber).toBeGreaterThanOrEqual(importedAt)
    expect(await openssl(['crl', '-in', crlPath, '-noout', '-text'])).toMatch(
      /Authority Key Identifier:\s*(keyid:)?01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10/,
    )
    // And openssl's CRL check with the chain agrees the device is revoked.
    const checked = await openssl([
      'verify',
      '-crl_check',
      '-CAfile',
      ecRoot.certificate,
      '-CRLfile',
      crlPath,
      join(certs, 'common.crt'),
    ]).catch((error: Error) => error.message)
    expect(checked).toMatch(/certificate revoked/)
  })

  it('imports an RSA root with an encrypted key, under a vault passphrase', async () => {
    const encrypted = await encryptKey(rsaRoot.key, 'key pass 123')
    const input = { certificatePem: await text(rsaRoot.certificate), privateKeyPem: await text(encrypted) }
    expect(await refusal(() => readImportedCa(input))).toBe("The CA's private key is encrypted; give its passphrase.")
    expect(await refusal(() => readImportedCa({ ...input, keyPassphrase: 'not it' }))).toBe(
      "The passphrase does not open the CA's private key.",
    )
    const dataDir = join(dir, 'data-rsa')
    const workspace = await Workspace.initialise(dataDir, {
      imported: { ...input, keyPassphrase: 'key pass 123' },
      passphrase: 'vault pass 456',
    })
    expect(workspace.getRootCa()).toMatchObject({ keyType: 'rsa2048', keyProtection: 'passphrase' })
    const reopened = await Workspace.open(dataDir, { passphrase: 'vault pass 456' })
    await verifyIssuedBundle(reopened, 'rsa-device')
  })

  it('imports an intermediate CA with its chain: root_ca.crt holds intermediate then root', async () => {
    // Without the root the chain is incomplete.
    expect(await refusal(async () => readImportedCa(await pemInput(intermediate)))).toBe(
      'The CA certificate "O=Example Fleet, CN=fleet-intermediate" is not self-signed and its issuer "O=Example Fleet, CN=ec-root" is not among the certificates given; add the chain up to the root CA.',
    )
    const workspace = await Workspace.initialise(join(dir, 'data-intermediate'), {
      imported: await pemInput(intermediate, { chainPem: await text(ecRoot.certificate) }),
    })
    expect(workspace.getRootCa()).toMatchObject({ keyType: 'rsa2048', subject: 'O=Example Fleet, CN=fleet-intermediate' })
    const certs = await verifyIssuedBundle(workspace, 'intermediate-device')
    const chain = pemCertificates(await text(join(certs, 'root_ca.crt'))).map((pem) => new X509Certificate(pem).subject)
    expect(chain).toEqual(['O=Example Fleet\nCN=fleet-intermediate', 'O=Example Fleet\nCN=ec-root'])
    // A device trusting only the root verifies with the intermediate given as untrusted.
    await openssl(['verify', '-CAfile', ecRoot.certificate, '-untrusted', intermediate.certificate, join(certs, 'common.crt')])

    // The chain export and the PKCS#12 export carry the whole chain too.
    const device = workspace.listCertificates()[0]
    const chainExport = (await workspace.exportCertificate(device.id, 'chain')).toString('utf8')
    expect(pemCertificates(chainExport)).toHaveLength(3)
    const p12 = join(dir, 'device.p12')
    await writeFile(p12, await workspace.exportCertificate(device.id, 'p12', { passphrase: 'export pass' }))
    const info = await openssl(['pkcs12', '-in', p12, '-passin', 'pass:export pass', '-nokeys'])
    expect(pemCertificates(info)).toHaveLength(3)

    // The CRL of an intermediate verifies against it.
    const crlPath = join(dir, 'intermediate.crl')
    await writeFile(crlPath, (await workspace.generateCrl()).pem)
    await openssl(['crl', '-in', crlPath, '-CAfile', join(certs, 'root_ca.crt'), '-verify', '-noout'])
  })

  it('reads the intermediate chain from the certificate file itself', async () => {
    const both = (await text(intermediate.certificate)) + (await text(ecRoot.certificate))
    const ca = readImportedCa({ certificatePem: both, privateKeyPem: await text(intermediate.key) })
    expect(ca.chainPems.map((pem) => new X509Certificate(pem).subject)).toEqual(['O=Example Fleet\nCN=ec-root'])
  })

  it('imports PKCS#12 files, OpenSSL 3 default and -legacy', async () => {
    const modern = await exportPkcs12(intermediate, join(dir, 'intermediate.p12'), 'p12 pass', { chain: [ecRoot.certificate] })
    const legacy = await exportPkcs12(rsaRoot, join(dir, 'rsa-legacy.p12'), 'p12 pass', { legacy: true })
    const fromModern = readImportedCa({ pkcs12: await readFile(modern), pkcs12Passphrase: 'p12 pass' })
    expect(fromModern).toMatchObject({ keyType: 'rsa2048', commonName: 'fleet-intermediate' })
    expect(fromModern.chainPems).toHaveLength(1)
    expect(await refusal(async () => readImportedCa({ pkcs12: await readFile(modern), pkcs12Passphrase: 'wrong' }))).toBe(
      'The passphrase does not open the PKCS#12 file.',
    )
    expect(await refusal(async () => readImportedCa({ pkcs12: await readFile(ecRoot.certificate) }))).toBe(
      'The file is not a PKCS#12 (.p12 or .pfx) file that Certdesk can read.',
    )
    const workspace = await Workspace.initialise(join(dir, 'data-p12'), {
      imported: { pkcs12: await readFile(legacy), pkcs12Passphrase: 'p12 pass' },
    })
    expect(workspace.getRootCa().fingerprint256).toBe(new X509Certificate(await text(rsaRoot.certificate)).fingerprint256)
    await verifyIssuedBundle(workspace, 'p12-device')
    // An EC key in PKCS#12 (forge hands it over as ASN.1).
    const ecP12 = await exportPkcs12(ecRoot, join(dir, 'ec.p12'), 'p12 pass')
    expect(readImportedCa({ pkcs12: await readFile(ecP12), pkcs12Passphrase: 'p12 pass' })).toMatchObject({ keyType: 'ec-p256' })
  })

  it('refuses what is not a usable CA, each with one sentence, and writes nothing', async () => {
    const notCa = await makeRoot(dir, 'leaf', { basicConstraints: 'critical,CA:FALSE', keyUsage: 'critical,digitalSignature' })
    const noSign = await makeRoot(dir, 'no-sign', { keyUsage: 'critical,digitalSignature,cRLSign' })
    const noCrl = await makeRoot(dir, 'no-crl', { keyUsage: 'critical,keyCertSign' })
    const noUsage = await makeRoot(dir, 'no-usage', { keyUsage: null })
    const expired = await makeExpiredRoot(dir, 'expired-root')
    const edwards = await makeRoot(dir, 'ed-root', { key: 'ed25519' })
    const cases: [() => Promise<ImportedCaInput>, string | RegExp][] = [
      [
        () => pemInput(notCa),
        'The certificate "O=Example Fleet, CN=leaf" is not a CA certificate (its basicConstraints do not say CA:TRUE).',
      ],
      [() => pemInput(noSign), 'The certificate "O=Example Fleet, CN=no-sign" may not sign certificates (its keyUsage lacks keyCertSign).'],
      [
        () => pemInput(noCrl),
        'The certificate "O=Example Fleet, CN=no-crl" may not sign revocation lists (its keyUsage lacks cRLSign), which Certdesk needs.',
      ],
      [() => pemInput(expired), 'The CA certificate "CN=expired-root" expired on 2021-01-01T00:00:00.000Z.'],
      [async () => ({ ...(await pemInput(ecRoot)), privateKeyPem: await text(rsaRoot.key) }), /does not belong/],
      [
        () => pemInput(edwards),
        'The CA key is ED25519, which Certdesk does not support; it supports rsa2048, rsa3072, rsa4096, ec-p256, ec-p384.',
      ],
      [
        async () => ({ certificatePem: 'nothing here', privateKeyPem: '' }),
        'No CA certificate was found; give the CA certificate as a PEM file.',
      ],
      [
        async () => ({ ...(await pemInput(ecRoot)), privateKeyPem: 'not a key' }),
        'The private key cannot be read; it is not a private key in PEM form.',
      ],
    ]
    for (const [input, expected] of cases) {
      const dataDir = join(dir, 'refused')
      const sentence = await refusal(async () => Workspace.initialise(dataDir, { imported: await input() }))
      if (typeof expected === 'string') expect(sentence).toBe(expected)
      else expect(sentence).toMatch(expected)
      await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/)
    }
    expect(await refusal(async () => readImportedCa({ ...(await pemInput(ecRoot)), privateKeyPem: await text(rsaRoot.key) }))).toBe(
      'The private key does not belong to the certificate "O=Example Fleet, CN=ec-root" (their public keys differ).',
    )
    // No keyUsage at all: no limit on the key (RFC 5280), so it is accepted.
    expect(readImportedCa(await pemInput(noUsage))).toMatchObject({ commonName: 'no-usage' })
  })

  it('refuses a folder that already has a root CA, and leaves it as it was', async () => {
    const dataDir = join(dir, 'data-taken')
    await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const before = await readFile(join(dataDir, 'config.json'), 'utf8')
    const sentence = await refusal(async () => Workspace.initialise(dataDir, { imported: await pemInput(ecRoot) }), 'CONFLICT')
    expect(sentence).toBe(`${dataDir} already has a root CA; Certdesk keeps one root CA per data folder.`)
    expect(await readFile(join(dataDir, 'config.json'), 'utf8')).toBe(before)
  })
})
