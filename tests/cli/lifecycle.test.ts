import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CertificateView, ProfileView, SignedRequest } from '../../src-main/contract/types'
import { command, openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'
import { makeDeviceRequest } from '../helpers/externalCa'
import { expectCliRefusal, folderSnapshot } from '../helpers/cliChecks'

let folder: string
let dataDir: string
const cd = (...args: string[]) => ['--data', dataDir, ...args]
const expectRefusal = (args: string[], exitCode: number, pattern: RegExp) => expectCliRefusal(args, pattern, { exitCode })
const snapshot = () => folderSnapshot(dataDir)

beforeAll(async () => {
  folder = await temporaryFolder()
  dataDir = join(folder, 'data')
  await runCertdeskJson(cd('ca', 'init', '--key-type', 'ec-p256'))
})

describe('certdesk profile', () => {
  it('creates, lists, shows, updates and deletes profiles, and cert create --profile uses one', async () => {
    const created = await runCertdeskJson<ProfileView>(
      cd(
        'profile',
        'create',
        'plant',
        '--organization',
        'Plant 4',
        '--country',
        'FR',
        '--common-name',
        'certificateName',
        '--san',
        'dns:{name}.plant.example',
        '--days',
        '60',
        '--key-type',
        'ec-p384',
      ),
    )
    expect(created).toMatchObject({ name: 'plant', organization: 'Plant 4', country: 'FR', days: 60, keyType: 'ec-p384', builtIn: false })
    const listed = await runCertdesk(cd('profile', 'list'))
    expect(listed.stdout).toMatch(/^default \(built in\)/m)
    expect(listed.stdout).toMatch(/^plant\s+ec-p384\s+60\s+certificateName\s+C=FR, O=Plant 4/m)
    expect((await runCertdesk(cd('profile', 'show', 'plant'))).stdout).toContain('Alternative names:  dns:{name}.plant.example')

    const updated = await runCertdeskJson<ProfileView>(cd('profile', 'update', 'plant', '--organizational-unit', 'Line 2', '--no-san'))
    expect(updated).toMatchObject({ organizationalUnit: 'Line 2', subjectAltNames: [], organization: 'Plant 4' })
    const certificate = await runCertdeskJson<CertificateView>(cd('cert', 'create', '--name', 'press-3', '--profile', 'plant'))
    expect(certificate).toMatchObject({ cn: 'press-3', keyType: 'ec-p384', profile: 'plant' })
    await writeFile(
      join(folder, 'press.pem'),
      (await runCertdesk(cd('cert', 'export', certificate.id, '--format', 'pem', '--out', '-'))).stdout,
    )
    expect(await openssl(['x509', '-in', join(folder, 'press.pem'), '-noout', '-subject'])).toBe(
      'subject=C = FR, O = Plant 4, OU = Line 2, CN = press-3\n',
    )

    await expectRefusal(cd('profile', 'create', 'bad', '--country', 'France'), 1, /two-letter ISO 3166 code/)
    await expectRefusal(cd('profile', 'update', 'default', '--days', '3'), 1, /"default" is built in/)
    await expectRefusal(cd('profile', 'update', 'plant'), 2, /Nothing to change/)
    await expectRefusal(
      cd('cert', 'create', '--name', 'x', '--profile', 'nope'),
      1,
      /There is no profile "nope"; the profiles are default, plant\.$/,
    )
    expect((await runCertdeskJson<ProfileView>(cd('profile', 'delete', 'plant'))).name).toBe('plant')
    expect(await runCertdeskJson<ProfileView[]>(cd('profile', 'list'))).toHaveLength(1)
  })
})

describe('certdesk cert renew and cert sign-csr', () => {
  it('renews with --revoke-old, and signs a request with the bundle holding no key', async () => {
    const old = await runCertdeskJson<CertificateView>(cd('cert', 'create', '--name', 'Yearly'))
    const renewed = await runCertdeskJson<CertificateView>(cd('cert', 'renew', old.id, '--revoke-old', '--days', '30'))
    expect(renewed).toMatchObject({ name: 'Yearly', renewedFrom: old.id, cn: old.cn })
    const list = await runCertdeskJson<CertificateView[]>(cd('cert', 'list'))
    expect(list.find((c) => c.id === old.id)).toMatchObject({ status: 'revoked', revocationReason: 'superseded' })

    await openssl([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(folder, 'device.key'),
      '-subj',
      '/CN=device',
      '-out',
      join(folder, 'device.csr'),
    ])
    const human = await runCertdesk(cd('cert', 'sign-csr', '--csr', join(folder, 'device.csr'), '--name', 'From device'))
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toContain('The request asked for: CN=device; only its public key is used, the profile decides the rest.')
    const signed = (await runCertdeskJson<CertificateView[]>(cd('cert', 'list'))).find((c) => c.name === 'From device')
    expect(signed).toMatchObject({ keyOrigin: 'csr', hasPrivateKey: false, keyType: 'rsa2048' })
    const exported = await runCertdesk(cd('cert', 'export', signed!.id, '--out', join(folder, 'device.zip')))
    expect(exported.stdout).toBe(`Wrote ${join(folder, 'device.zip')}.\n`)
    expect(await command('unzip', ['-Z1', join(folder, 'device.zip')])).not.toContain('common.key')

    const before = await snapshot()
    await writeFile(join(folder, 'broken.csr'), 'not a request')
    await expectRefusal(
      cd('cert', 'sign-csr', '--csr', join(folder, 'broken.csr'), '--name', 'Broken'),
      1,
      /not a PEM certificate signing request/,
    )
    await expectRefusal(cd('cert', 'sign-csr', '--csr', join(folder, 'missing.csr'), '--name', 'Missing'), 1, /Cannot read/)
    await expectRefusal(cd('cert', 'renew', signed!.id, '--days', '0'), 1, /days/)
    expect(await snapshot()).toEqual(before)
  })

  it('prints the signed certificate and what the request asked for as JSON', async () => {
    await makeDeviceRequest(join(folder, 'j.key'), join(folder, 'j.csr'), ['-subj', '/CN=j'])
    const signed = await runCertdeskJson<SignedRequest>(cd('cert', 'sign-csr', '--csr', join(folder, 'j.csr'), '--name', 'J'))
    expect(signed.request).toEqual({ requestedSubject: 'CN=j', requestedExtensions: [] })
    expect(signed.certificate.hasPrivateKey).toBe(false)
  })
})
