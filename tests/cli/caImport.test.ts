import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expectCliRefusal, folderSnapshot } from '../helpers/cliChecks'
import { beforeAll, describe, expect, it } from 'vitest'
import { type ExternalCa, encryptKey, exportPkcs12, makeExpiredRoot, makeIntermediate, makeRoot } from '../helpers/externalCa'
import { command, openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

let folder: string
let root: ExternalCa
let intermediate: ExternalCa

const expectRefusal = (args: string[], exitCode: number, pattern: RegExp, env: NodeJS.ProcessEnv = {}) =>
  expectCliRefusal(args, pattern, { exitCode, env })
/** The data folder's files, or 'absent' when a refusal left no folder at all. */
const listing = (dataDir: string) => folderSnapshot(dataDir).catch(() => 'absent' as const)

beforeAll(async () => {
  folder = await temporaryFolder('certdesk-cli-import-')
  root = await makeRoot(folder, 'cli-root', { key: 'ec' })
  intermediate = await makeIntermediate(folder, 'cli-intermediate', root, { key: 'ec' })
})

describe('certdesk ca import', () => {
  it('imports a root CA from PEM files with an encrypted key; a device bundle verifies with openssl', async () => {
    const dataDir = join(folder, 'data-pem')
    const key = await encryptKey(root.key, 'ca key pass')
    const env = { CA_KEY_PASS: 'ca key pass', STORE_PASS: 'store pass 1' }
    const human = await runCertdesk(
      [
        '--data',
        dataDir,
        'ca',
        'import',
        '--cert',
        root.certificate,
        '--key',
        key,
        '--key-passphrase-env',
        'CA_KEY_PASS',
        '--passphrase-env',
        'STORE_PASS',
      ],
      env,
    )
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^Imported the CA into .*\nSubject: +O=Example Fleet, CN=cli-root\nKey type: +ec-p256/)
    expect(human.stdout).toMatch(/Origin: +imported \(ca import\)\nKey protection: +passphrase/)
    const shown = await runCertdeskJson<{ fingerprint256: string }>(['--data', dataDir, 'ca', 'show'], env)
    expect(shown.fingerprint256).toBe(new X509Certificate(await readFile(root.certificate)).fingerprint256)

    const cd = ['--data', dataDir, '--passphrase-env', 'STORE_PASS']
    const { id } = await runCertdeskJson<{ id: string }>([...cd, 'cert', 'create', '--name', 'cli-device', '--days', '30'], env)
    const zip = join(folder, 'cli-device.zip')
    await runCertdeskJson([...cd, 'cert', 'export', id, '--out', zip], env)
    const unpacked = join(folder, 'cli-device')
    await command('unzip', ['-oq', zip, '-d', unpacked])
    const certs = join(unpacked, 'common_certs')
    expect(await openssl(['verify', '-CAfile', join(certs, 'root_ca.crt'), join(certs, 'common.crt')])).toMatch(/: OK/)
  })

  it('imports an intermediate from PKCS#12 (default and -legacy) and from --chain; root_ca.crt holds the chain', async () => {
    for (const legacy of [false, true]) {
      const p12 = await exportPkcs12(intermediate, join(folder, `intermediate-${legacy}.p12`), 'p12 pass', {
        chain: [root.certificate],
        legacy,
      })
      const dataDir = join(folder, `data-p12-${legacy}`)
      const view = await runCertdeskJson<{ subject: string }>(
        ['--data', dataDir, 'ca', 'import', '--pkcs12', p12, '--pkcs12-passphrase-env', 'P12_PASS'],
        { P12_PASS: 'p12 pass' },
      )
      expect(view.subject).toBe('O=Example Fleet, CN=cli-intermediate')
      const exported = join(folder, `root-${legacy}.crt`)
      await runCertdeskJson(['--data', dataDir, 'ca', 'export', '--out', exported])
      expect((await readFile(exported, 'utf8')).match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
      const { id } = await runCertdeskJson<{ id: string }>(['--data', dataDir, 'cert', 'create', '--name', 'chained', '--days', '30'])
      const chain = join(folder, `chained-${legacy}.pem`)
      await runCertdeskJson(['--data', dataDir, 'cert', 'export', id, '--format', 'chain', '--out', chain])
      const leaf = join(folder, `leaf-${legacy}.pem`)
      await runCertdeskJson(['--data', dataDir, 'cert', 'export', id, '--format', 'pem', '--out', leaf])
      expect(await openssl(['verify', '-CAfile', exported, leaf])).toMatch(/: OK/)
      expect((await readFile(chain, 'utf8')).match(/BEGIN CERTIFICATE/g)).toHaveLength(3)
    }
    const dataDir = join(folder, 'data-chain')
    await runCertdeskJson([
      '--data',
      dataDir,
      'ca',
      'import',
      '--cert',
      intermediate.certificate,
      '--key',
      intermediate.key,
      '--chain',
      root.certificate,
    ])
    const crl = join(folder, 'chain.crl')
    await runCertdeskJson(['--data', dataDir, 'ca', 'crl', '--out', crl])
    const exported = join(folder, 'chain-root.crt')
    await runCertdeskJson(['--data', dataDir, 'ca', 'export', '--out', exported])
    await openssl(['crl', '-in', crl, '-CAfile', exported, '-verify', '-noout'])
  })

  it('refuses bad input with one sentence, a non-zero exit and the folder unchanged', async () => {
    const leaf = await makeRoot(folder, 'not-a-ca', { basicConstraints: 'critical,CA:FALSE', keyUsage: 'critical,digitalSignature' })
    const expired = await makeExpiredRoot(folder, 'old-root')
    const other = await makeRoot(folder, 'other-root', { key: 'ec' })
    const encrypted = await encryptKey(other.key, 'right pass')
    const p12 = await exportPkcs12(root, join(folder, 'root.p12'), 'p12 pass')
    const empty = join(folder, 'data-refused')
    const taken = join(folder, 'data-taken')
    await runCertdeskJson(['--data', taken, 'ca', 'init', '--key-type', 'ec-p256'])
    const cases: [string, string[], RegExp, NodeJS.ProcessEnv?][] = [
      [empty, ['--cert', leaf.certificate, '--key', leaf.key], /is not a CA certificate \(its basicConstraints do not say CA:TRUE\)\.$/],
      [
        empty,
        ['--cert', root.certificate, '--key', other.key],
        /The private key does not belong to the certificate "O=Example Fleet, CN=cli-root"/,
      ],
      [
        empty,
        ['--cert', other.certificate, '--key', encrypted, '--key-passphrase-env', 'WRONG'],
        /^certdesk: The passphrase does not open the CA's private key\.$/,
        { WRONG: 'wrong pass' },
      ],
      [
        empty,
        ['--pkcs12', p12, '--pkcs12-passphrase-env', 'WRONG'],
        /^certdesk: The passphrase does not open the PKCS#12 file\.$/,
        { WRONG: 'nope' },
      ],
      [
        empty,
        ['--cert', expired.certificate, '--key', expired.key],
        /^certdesk: The CA certificate "CN=old-root" expired on 2021-01-01T00:00:00\.000Z\.$/,
      ],
      [
        empty,
        ['--cert', intermediate.certificate, '--key', intermediate.key],
        /is not self-signed and its issuer .* add the chain up to the root CA\.$/,
      ],
      [taken, ['--cert', root.certificate, '--key', root.key], /already has a root CA; Certdesk keeps one root CA per data folder\.$/],
    ]
    for (const [dataDir, args, pattern, env] of cases) {
      const before = await listing(dataDir)
      await expectRefusal(['--data', dataDir, 'ca', 'import', ...args], 1, pattern, env)
      expect(await listing(dataDir)).toEqual(before)
    }
    await expectRefusal(
      ['--data', empty, 'ca', 'import', '--cert', root.certificate],
      2,
      /Give --cert FILE with --key FILE, or --pkcs12 FILE\./,
    )
    await expectRefusal(['--data', empty, 'ca', 'import', '--pkcs12', p12, '--key', root.key], 2, /not both/)
    expect(await listing(empty)).toBe('absent')
  })
})
