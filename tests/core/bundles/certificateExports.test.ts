import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSecureContext } from 'node:tls'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseExportFormat } from '../../../src-main/core/bundles/certificateExports'
import { Workspace } from '../../../src-main/core/workspace'
import { command, openssl, temporaryFolder } from '../../helpers/tools'

const execFileAsync = promisify(execFile)
const PASSPHRASE = 'correct horse battery staple'

/** openssl with the export passphrase in the environment (`-passin env:P12_PASS`). */
async function opensslWithPassphrase(args: string[], passphrase = PASSPHRASE): Promise<string> {
  const { stdout } = await execFileAsync('openssl', args, { env: { ...process.env, P12_PASS: passphrase } })
  return stdout
}

async function setUp(keyType: 'rsa2048' | 'ec-p256') {
  const folder = await temporaryFolder('certdesk-cert-exports-')
  const workspace = await Workspace.initialise(join(folder, 'data'), { keyType })
  const certificate = await workspace.issueDeviceCertificate({ name: 'Export target' })
  const rootFile = join(folder, 'root.pem')
  await writeFile(rootFile, await workspace.rootCertificatePem())
  return { folder, workspace, certificate, rootFile }
}

describe('certificate exports', () => {
  it.each(['rsa2048', 'ec-p256'] as const)('%s: pem, der and chain verify with openssl and log no key export', async (keyType) => {
    const { folder, workspace, certificate, rootFile } = await setUp(keyType)
    const pem = await workspace.exportCertificate(certificate.id, 'pem')
    expect(new X509Certificate(pem).fingerprint256).toBe(certificate.fingerprint256)

    const derFile = join(folder, 'cert.der')
    await writeFile(derFile, await workspace.exportCertificate(certificate.id, 'der'))
    expect(await openssl(['x509', '-inform', 'DER', '-in', derFile, '-noout', '-subject'])).toBe(`subject=CN = ${certificate.cn}\n`)

    const chainFile = join(folder, 'chain.pem')
    const chain = await workspace.exportCertificate(certificate.id, 'chain')
    await writeFile(chainFile, chain)
    expect(chain.toString().match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
    expect(await openssl(['verify', '-CAfile', rootFile, chainFile])).toBe(`${chainFile}: OK\n`)

    expect(workspace.getAuditLog().entries.filter((entry) => entry.action === 'certificate.export')).toEqual([])
  })

  it.each(['rsa2048', 'ec-p256'] as const)('%s: PKCS#12 with AES-256 by default and 3DES with legacy', async (keyType) => {
    const { folder, workspace, certificate } = await setUp(keyType)
    const p12File = join(folder, 'modern.p12')
    const p12 = await workspace.exportCertificate(certificate.id, 'p12', { passphrase: PASSPHRASE })
    await writeFile(p12File, p12)
    const info = await opensslWithPassphrase(['pkcs12', '-info', '-nokeys', '-in', p12File, '-passin', 'env:P12_PASS'])
    expect(info).toContain('friendlyName: Export target')
    expect(info).toContain(`subject=CN = ${certificate.cn}`)
    expect(info).toContain('subject=CN = Certdesk Root CA')
    const details = await execFileAsync('openssl', ['pkcs12', '-info', '-nokeys', '-in', p12File, '-passin', 'env:P12_PASS'], {
      env: { ...process.env, P12_PASS: PASSPHRASE },
    })
    expect(details.stderr).toContain('MAC: sha256')
    expect(details.stderr).toMatch(/PBES2, PBKDF2, AES-256-CBC.*PRF hmacWithSHA256/)
    expect(() => createSecureContext({ pfx: p12, passphrase: PASSPHRASE })).not.toThrow()
    await expect(opensslWithPassphrase(['pkcs12', '-info', '-nokeys', '-in', p12File, '-passin', 'env:P12_PASS'], 'wrong')).rejects.toThrow(
      /invalid password|mac verify/i,
    )

    const legacyFile = join(folder, 'legacy.p12')
    const legacy = await workspace.exportCertificate(certificate.id, 'p12', {
      passphrase: PASSPHRASE,
      legacy: true,
      friendlyName: 'Old store',
    })
    await writeFile(legacyFile, legacy)
    const legacyDetails = await execFileAsync(
      'openssl',
      ['pkcs12', '-legacy', '-info', '-nokeys', '-in', legacyFile, '-passin', 'env:P12_PASS'],
      { env: { ...process.env, P12_PASS: PASSPHRASE } },
    )
    expect(legacyDetails.stdout).toContain('friendlyName: Old store')
    expect(legacyDetails.stderr).toContain('MAC: sha1')
    expect(legacyDetails.stderr).toContain('pbeWithSHA1And3-KeyTripleDES-CBC')
    expect(() => createSecureContext({ pfx: legacy, passphrase: PASSPHRASE })).not.toThrow()

    // The key inside belongs to the certificate.
    const keyFromP12 = await opensslWithPassphrase(['pkcs12', '-in', p12File, '-nocerts', '-nodes', '-passin', 'env:P12_PASS'])
    const certificateFile = join(folder, 'cert.pem')
    await writeFile(certificateFile, await workspace.certificatePem(certificate.id))
    expect(await openssl(['pkey', '-pubout'], keyFromP12)).toBe(await openssl(['x509', '-in', certificateFile, '-noout', '-pubkey']))

    const exports = workspace.getAuditLog().entries.filter((entry) => entry.action === 'certificate.export')
    expect(exports.map((entry) => [entry.target, entry.detail])).toEqual([
      [certificate.id, { format: 'p12' }],
      [certificate.id, { format: 'p12' }],
    ])
  })

  it.each(['rsa2048', 'ec-p256'] as const)('%s: the key as encrypted PKCS#8, or plain when asked', async (keyType) => {
    const { folder, workspace, certificate } = await setUp(keyType)
    const certificateFile = join(folder, 'cert.pem')
    await writeFile(certificateFile, await workspace.certificatePem(certificate.id))
    const certificatePublicKey = await openssl(['x509', '-in', certificateFile, '-noout', '-pubkey'])

    const keyFile = join(folder, 'key.pem')
    const key = await workspace.exportCertificate(certificate.id, 'key', { passphrase: PASSPHRASE })
    expect(key.toString()).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/)
    await writeFile(keyFile, key)
    expect(await opensslWithPassphrase(['pkey', '-in', keyFile, '-passin', 'env:P12_PASS', '-pubout'])).toBe(certificatePublicKey)
    await expect(opensslWithPassphrase(['pkey', '-in', keyFile, '-passin', 'env:P12_PASS', '-pubout'], 'wrong')).rejects.toThrow()

    const plain = await workspace.exportCertificate(certificate.id, 'key', { plainKey: true })
    expect(plain.toString()).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(await openssl(['pkey', '-pubout'], plain.toString())).toBe(certificatePublicKey)
  })

  it('zip is the seed bundle, and key formats need a passphrase before anything is delivered', async () => {
    const { folder, workspace, certificate } = await setUp('ec-p256')
    const zipFile = join(folder, 'bundle.zip')
    await writeFile(zipFile, await workspace.exportCertificate(certificate.id, 'zip'))
    expect((await command('unzip', ['-Z1', zipFile])).trim().split('\n')).toEqual([
      'common_certs/common.crt',
      'common_certs/common.key',
      'common_certs/root_ca.crt',
    ])
    let delivered = 0
    const deliver = async () => {
      delivered += 1
      return true
    }
    await expect(workspace.exportCertificate(certificate.id, 'p12', {}, deliver)).rejects.toThrow(
      'The p12 export needs a passphrase to protect the private key.',
    )
    await expect(workspace.exportCertificate(certificate.id, 'key', { passphrase: '' }, deliver)).rejects.toThrow(
      'The key export needs a passphrase to protect the private key.',
    )
    expect(delivered).toBe(0)
    expect(workspace.getAuditLog().entries.filter((entry) => entry.action === 'certificate.export')).toHaveLength(1)
    expect(() => parseExportFormat('jks')).toThrow('Unknown export format "jks"; use one of zip, pem, der, chain, p12, key.')
  })
})
