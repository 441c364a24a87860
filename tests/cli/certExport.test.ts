import { execFile } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_ROOT, openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'
import { editStoredEntry } from '../helpers/storedRegistry'

const execFileAsync = promisify(execFile)
const ENV = { EXPORT_PASS: 'a long export passphrase' }

let folder: string
let dataDir: string
let certificateId: string
let certificatePublicKey: string

const certdesk = (args: string[], env: NodeJS.ProcessEnv = ENV) => runCertdesk(['--data', dataDir, ...args], env)
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

beforeAll(async () => {
  folder = await temporaryFolder('certdesk-cert-export-')
  dataDir = join(folder, 'data')
  await runCertdeskJson(['--data', dataDir, 'ca', 'init', '--key-type', 'ec-p256'])
  certificateId = (await runCertdeskJson<{ id: string }>(['--data', dataDir, 'cert', 'create', '--name', 'Sensor 7'])).id
  const certificateFile = join(folder, 'sensor.crt')
  expect((await certdesk(['cert', 'export', certificateId, '--format', 'pem', '--out', certificateFile])).code).toBe(0)
  certificatePublicKey = await openssl(['x509', '-in', certificateFile, '-noout', '-pubkey'])
})

describe('cert export --format', () => {
  it('writes der and a chain that openssl verifies, without keys and mode 0644', async () => {
    const derFile = join(folder, 'sensor.der')
    expect((await certdesk(['cert', 'export', certificateId, '--format', 'der', '--out', derFile])).stdout).toBe(`Wrote ${derFile}.\n`)
    expect(await openssl(['x509', '-inform', 'DER', '-in', derFile, '-noout', '-issuer'])).toBe('issuer=CN = Certdesk Root CA\n')
    expect((await stat(derFile)).mode & 0o777).toBe(0o644)

    const chainFile = join(folder, 'chain.pem')
    const rootFile = join(folder, 'root.pem')
    expect((await certdesk(['cert', 'export', certificateId, '--format', 'chain', '--out', chainFile])).code).toBe(0)
    expect((await certdesk(['ca', 'export', '--out', rootFile])).code).toBe(0)
    expect(await openssl(['verify', '-CAfile', rootFile, chainFile])).toBe(`${chainFile}: OK\n`)
  })

  it('writes PKCS#12 that openssl reads with the passphrase, AES by default and 3DES with --legacy', async () => {
    const p12File = join(folder, 'sensor.p12')
    const result = await certdesk([
      'cert',
      'export',
      certificateId,
      '--format',
      'p12',
      '--export-passphrase-env',
      'EXPORT_PASS',
      '--out',
      p12File,
    ])
    expect(result.stdout).toBe(`Wrote ${p12File}; it holds a private key, keep it safe.\n`)
    expect((await stat(p12File)).mode & 0o777).toBe(0o600)
    const env = { ...process.env, ...ENV }
    const modern = await execFileAsync('openssl', ['pkcs12', '-info', '-nokeys', '-in', p12File, '-passin', 'env:EXPORT_PASS'], { env })
    expect(modern.stdout).toContain('friendlyName: Sensor 7')
    expect(modern.stderr).toContain('AES-256-CBC')

    const legacyFile = join(folder, 'legacy.p12')
    const args = ['cert', 'export', certificateId, '--format', 'p12', '--legacy', '--name', 'Windows store']
    expect((await certdesk([...args, '--export-passphrase-env', 'EXPORT_PASS', '--out', legacyFile])).code).toBe(0)
    const legacy = await execFileAsync(
      'openssl',
      ['pkcs12', '-legacy', '-info', '-nokeys', '-in', legacyFile, '-passin', 'env:EXPORT_PASS'],
      { env },
    )
    expect(legacy.stdout).toContain('friendlyName: Windows store')
    expect(legacy.stderr).toContain('3-KeyTripleDES-CBC')
  })

  it('writes the key as encrypted PKCS#8, and plain only with --plain-key --yes', async () => {
    const keyFile = join(folder, 'sensor.key')
    expect(
      (await certdesk(['cert', 'export', certificateId, '--format', 'key', '--export-passphrase-env', 'EXPORT_PASS', '--out', keyFile]))
        .code,
    ).toBe(0)
    const { stdout } = await execFileAsync('openssl', ['pkey', '-in', keyFile, '-passin', 'env:EXPORT_PASS', '-pubout'], {
      env: { ...process.env, ...ENV },
    })
    expect(stdout).toBe(certificatePublicKey)

    const plainFile = join(folder, 'plain.key')
    const refused = await certdesk(['cert', 'export', certificateId, '--format', 'key', '--plain-key', '--out', plainFile])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toBe(
      'certdesk: A plain private key is readable by anyone who gets the file; add --yes to confirm --plain-key.\n',
    )
    expect(await exists(plainFile)).toBe(false)

    const plain = await certdesk(['cert', 'export', certificateId, '--format', 'key', '--plain-key', '--yes', '--out', '-'])
    expect(plain.code).toBe(0)
    expect(plain.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(await openssl(['pkey', '-pubout'], plain.stdout)).toBe(certificatePublicKey)
  })

  it('refuses a missing or unset passphrase variable in one sentence and writes nothing', async () => {
    const target = join(folder, 'never.p12')
    const missing = await certdesk(['cert', 'export', certificateId, '--format', 'p12', '--out', target])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toBe(
      'certdesk: --format p12 needs --export-passphrase-env VAR, with the passphrase in the environment variable VAR.\n',
    )
    const unset = await certdesk(
      ['cert', 'export', certificateId, '--format', 'key', '--export-passphrase-env', 'NO_SUCH_VAR', '--out', target],
      {},
    )
    expect(unset.code).not.toBe(0)
    expect(unset.stderr).toBe('certdesk: The environment variable NO_SUCH_VAR named by --export-passphrase-env is not set.\n')
    const empty = await certdesk(
      ['cert', 'export', certificateId, '--format', 'p12', '--export-passphrase-env', 'EMPTY', '--out', target],
      { EMPTY: '' },
    )
    expect(empty.code).not.toBe(0)
    expect(await exists(target)).toBe(false)
    const audit = await readFile(join(dataDir, 'audit.jsonl'), 'utf8')
    expect(audit).not.toContain('never.p12')
  })

  it('refuses key formats for a certificate without a private key, but still exports its certificate', async () => {
    const id = (await runCertdeskJson<{ id: string }>(['--data', dataDir, 'cert', 'create', '--name', 'From a CSR'])).id
    // As a certificate signed from a device's request is stored: no private key in its record.
    editStoredEntry(dataDir, 'records', id, (record) => ({ ...record, privateKey: null }))
    for (const format of ['zip', 'p12', 'key']) {
      const target = join(folder, `csr.${format}`)
      const passphrase = format === 'zip' ? [] : ['--export-passphrase-env', 'EXPORT_PASS']
      const result = await certdesk(['cert', 'export', id, '--format', format, ...passphrase, '--out', target])
      expect(result.code).not.toBe(0)
      expect(result.stderr).toBe(
        `certdesk: Certificate "From a CSR" has no private key in Certdesk, so it cannot be exported as ${format}; export it as pem, der or chain.\n`,
      )
      expect(await exists(target)).toBe(false)
    }
    expect((await certdesk(['cert', 'export', id, '--format', 'pem', '--out', join(folder, 'csr.crt')])).code).toBe(0)
  })

  it('names the file after the certificate without --out: the seed zip by default', async () => {
    const run = await execFileAsync(
      process.execPath,
      [join(PROJECT_ROOT, 'bin/certdesk.mjs'), '--data', dataDir, 'cert', 'export', certificateId],
      {
        cwd: folder,
        env: { ...process.env, CERTDESK_HOME: '' },
      },
    )
    expect(run.stdout).toBe(`Wrote ${join(folder, 'Sensor_7.zip')}; it holds a private key, keep it safe.\n`)
    expect((await stat(join(folder, 'Sensor_7.zip'))).mode & 0o777).toBe(0o600)
  })
})
