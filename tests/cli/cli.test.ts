import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { command, openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'
import { expectCliRefusal, folderSnapshot } from '../helpers/cliChecks'

interface DeviceJson {
  id: string
  name: string
  deviceId: string
  username: string
  deviceKey: string
  authType: string
  certificateIds: string[]
}
interface CertificateJson {
  id: string
  name: string
  cn: string
  enabled: boolean
  serial: string
  fingerprint256: string
  notAfter: string
  keyType: string
  boundDeviceIds: string[]
}

let folder: string
let dataDir: string
const cd = (...args: string[]) => ['--data', dataDir, ...args]
const expectRefusal = (args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}) => expectCliRefusal(args, pattern, { env })
const snapshot = () => folderSnapshot(dataDir)

beforeAll(async () => {
  folder = await temporaryFolder()
  dataDir = join(folder, 'data')
})

describe('certdesk CLI', () => {
  it('runs the whole flow: CA, devices, certificate, binding, bundle', async () => {
    const ca = await runCertdeskJson<{ keyProtection: string; subject: string; keyType: string }>(
      cd('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Fleet Root'),
    )
    expect(ca).toMatchObject({ keyProtection: 'keyfile', subject: 'CN=Fleet Root', keyType: 'ec-p256' })
    const shown = await runCertdesk(cd('ca', 'show'))
    expect(shown.stdout).toMatch(/Key protection: key file/)

    const token = await runCertdeskJson<DeviceJson>(cd('device', 'create', '--name', 'Thermostat', '--auth', 'token'))
    expect(Object.keys(token)).toEqual(expect.arrayContaining(['id', 'name', 'deviceId', 'username', 'deviceKey', 'authType']))
    expect(token).toMatchObject({ name: 'Thermostat', authType: 'token', username: token.deviceId })
    const camera = await runCertdeskJson<DeviceJson>(
      cd('device', 'create', '--name', 'Camera', '--auth', 'cert', '--device-id', 'camera-0001', '--username', 'cam'),
    )
    expect(camera).toMatchObject({ deviceId: 'camera-0001', username: 'cam', authType: 'cert' })

    const certificate = await runCertdeskJson<CertificateJson>(cd('cert', 'create', '--name', 'Camera cert', '--days', '90'))
    expect(Object.keys(certificate)).toEqual(
      expect.arrayContaining(['id', 'name', 'cn', 'enabled', 'serial', 'fingerprint256', 'notAfter', 'keyType']),
    )
    expect(certificate).toMatchObject({ name: 'Camera cert', enabled: true, keyType: 'ec-p256' })
    const disabled = await runCertdeskJson<CertificateJson>(cd('cert', 'create', '--name', 'Spare', '--disabled', '--key-type', 'rsa2048'))
    expect(disabled).toMatchObject({ enabled: false, keyType: 'rsa2048' })
    expect(disabled.serial).not.toBe(certificate.serial)

    const bound = await runCertdeskJson<CertificateJson>(cd('cert', 'bind', certificate.id, 'camera-0001'))
    expect(bound.boundDeviceIds).toEqual(['camera-0001'])
    expect((await runCertdeskJson<DeviceJson>(cd('device', 'show', 'camera-0001'))).certificateIds).toEqual([certificate.id])

    const updated = await runCertdeskJson<CertificateJson>(cd('cert', 'update', disabled.id, '--enable', '--name', 'Spare 2'))
    expect(updated).toMatchObject({ enabled: true, name: 'Spare 2' })
    const list = await runCertdeskJson<CertificateJson[]>(cd('cert', 'list'))
    expect(list.map((c) => c.id)).toEqual([certificate.id, disabled.id])
    expect((await runCertdeskJson<DeviceJson[]>(cd('device', 'list'))).map((d) => d.deviceId)).toEqual([token.deviceId, 'camera-0001'])

    const zip = join(folder, 'camera.zip')
    await runCertdeskJson(cd('cert', 'export', certificate.id, '--out', zip))
    const out = join(folder, 'unpacked')
    await command('mkdir', ['-p', out])
    await command('unzip', ['-q', zip], out)
    const dir = join(out, 'common_certs')
    expect((await readdir(dir)).sort()).toEqual(['common.crt', 'common.key', 'root_ca.crt'])
    expect(await openssl(['verify', '-CAfile', join(dir, 'root_ca.crt'), join(dir, 'common.crt')])).toContain(': OK')

    await runCertdeskJson(cd('ca', 'export', '--out', join(folder, 'root_ca.crt')))
    expect(await readFile(join(folder, 'root_ca.crt'), 'utf8')).toBe(await readFile(join(dir, 'root_ca.crt'), 'utf8'))

    // Human output is a table with the names in it.
    const table = await runCertdesk(cd('cert', 'list'))
    expect(table.stdout).toMatch(/^ID\s+NAME\s+COMMON NAME/)
    expect(table.stdout).toContain('Camera cert')

    await runCertdeskJson(cd('cert', 'unbind', certificate.id, 'camera-0001'))
    await runCertdeskJson(cd('cert', 'delete', certificate.id))
    await runCertdeskJson(cd('device', 'delete', token.deviceId))
    expect((await runCertdeskJson<DeviceJson[]>(cd('device', 'list'))).map((d) => d.deviceId)).toEqual(['camera-0001'])
    for (const entry of await readdir(dataDir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) expect(await readFile(join(entry.parentPath, entry.name), 'utf8')).not.toContain('PRIVATE KEY')
    }
  })

  it('refuses bad input with one sentence and changes nothing', async () => {
    const cert = await runCertdeskJson<CertificateJson>(cd('cert', 'create', '--name', 'Refusals'))
    const camera = await runCertdeskJson<DeviceJson>(cd('device', 'create', '--name', 'C2', '--auth', 'cert'))
    const token = await runCertdeskJson<DeviceJson>(cd('device', 'create', '--name', 'T2', '--auth', 'token'))
    await runCertdeskJson(cd('cert', 'bind', cert.id, camera.deviceId))
    const before = await snapshot()

    await expectRefusal(cd('cert', 'create', '--name', '   '), /name is empty/)
    await expectRefusal(cd('cert', 'create', '--name', 'n'.repeat(65)), /limit is 64/)
    await expectRefusal(cd('cert', 'create', '--name', 'refusals'), /already exists/)
    await expectRefusal(cd('cert', 'create', '--name', 'ok', '--days', 'ten'), /not a number of days/)
    await expectRefusal(cd('cert', 'create', '--name', 'ok', '--key-type', 'dsa'), /dsa/)
    await expectRefusal(cd('cert', 'show', 'crt_missing'), /no certificate "crt_missing"/)
    await expectRefusal(cd('device', 'show', 'nobody-here'), /no device "nobody-here"/)
    await expectRefusal(cd('device', 'create', '--name', 'x', '--auth', 'password'), /token or cert/)
    await expectRefusal(cd('device', 'create', '--name', 'x', '--auth', 'token', '--device-id', 'bad id!'), /not a valid device ID/)
    await expectRefusal(cd('device', 'create', '--name', 'x', '--auth', 'token', '--device-id', camera.deviceId), /already exists/)
    await expectRefusal(cd('cert', 'bind', cert.id, token.deviceId), /token authentication/)
    await expectRefusal(cd('cert', 'bind', cert.id, camera.deviceId), /already bound/)
    await expectRefusal(cd('cert', 'delete', cert.id), /unbind them/)
    await expectRefusal(cd('device', 'update', camera.deviceId, '--auth', 'token'), /unbind them/)
    await expectRefusal(cd('cert', 'update', cert.id, '--enable', '--disable'), /not both/)
    await expectRefusal(cd('cert', 'export', cert.id, '--out', join(folder, 'no-such-dir', 'x.zip')), /does not exist/)
    await expectRefusal(cd('ca', 'init'), /already has a root CA/)
    await expectRefusal(cd('cert', 'frobnicate'), /unknown command/)
    await expectRefusal(cd('cert', 'create'), /--name/)
    await writeFile(join(folder, 'exists.zip'), 'keep me')
    await expectRefusal(cd('cert', 'export', cert.id, '--out', join(folder, 'exists.zip')), /--force/)
    expect(await readFile(join(folder, 'exists.zip'), 'utf8')).toBe('keep me')

    expect(await snapshot()).toEqual(before)
  })

  it('refuses folders that are not data folders, and a damaged index', async () => {
    await expectRefusal(['--data', join(folder, 'nowhere'), 'cert', 'list'], /no Certdesk data folder.*certdesk ca init/)
    await writeFile(join(folder, 'plain-file'), 'x')
    await expectRefusal(['--data', join(folder, 'plain-file'), 'device', 'list'], /is a file/)
    await expectRefusal(['--data', folder, 'device', 'list'], /not a Certdesk data folder/)
    const damaged = join(folder, 'damaged')
    await runCertdeskJson(['--data', damaged, 'ca', 'init', '--key-type', 'ec-p256'])
    await writeFile(join(damaged, 'config.json'), '{"schemaVersion": 2, "vault": ')
    await expectRefusal(['--data', damaged, 'device', 'list'], /damaged/)
    await expectRefusal(['--data', damaged, 'device', 'create', '--name', 'x', '--auth', 'token'], /damaged/)
    expect(await readFile(join(damaged, 'config.json'), 'utf8')).toBe('{"schemaVersion": 2, "vault": ')
  })

  it('uses $CERTDESK_HOME when --data is absent', async () => {
    const home = join(folder, 'home')
    await runCertdeskJson(['ca', 'init', '--key-type', 'ec-p256'], { CERTDESK_HOME: home })
    const device = await runCertdeskJson<DeviceJson>(['device', 'create', '--name', 'h', '--auth', 'token'], { CERTDESK_HOME: home })
    expect((await runCertdeskJson<DeviceJson[]>(['--data', home, 'device', 'list']))[0].id).toBe(device.id)
  })

  it('with --passphrase-env, key operations need the passphrase', async () => {
    const locked = join(folder, 'locked')
    const env = { CD_PASS: 'a long operator passphrase', CD_WRONG: 'not the passphrase' }
    const ca = await runCertdeskJson<{ keyProtection: string }>(
      ['--data', locked, 'ca', 'init', '--key-type', 'ec-p256', '--passphrase-env', 'CD_PASS'],
      env,
    )
    expect(ca.keyProtection).toBe('passphrase')
    expect((await runCertdesk(['--data', locked, 'ca', 'show'])).stdout).toMatch(/Key protection: passphrase/)
    await expectRefusal(['--data', locked, 'cert', 'create', '--name', 'x'], /protected by a passphrase.*--passphrase-env/)
    await expectRefusal(['--data', locked, 'cert', 'create', '--name', 'x', '--passphrase-env', 'CD_WRONG'], /passphrase is wrong/, env)
    await expectRefusal(['--data', locked, 'cert', 'create', '--name', 'x', '--passphrase-env', 'CD_UNSET'], /CD_UNSET.*not set/, env)
    const cert = await runCertdeskJson<CertificateJson>(
      ['--data', locked, 'cert', 'create', '--name', 'x', '--passphrase-env', 'CD_PASS'],
      env,
    )
    // A device's key is sealed under the vault, so creating one needs the passphrase; listing does not.
    await expectRefusal(['--data', locked, 'device', 'create', '--name', 'd', '--auth', 'token'], /protected by a passphrase/)
    const device = await runCertdeskJson<DeviceJson>(
      ['--data', locked, 'device', 'create', '--name', 'd', '--auth', 'token', '--passphrase-env', 'CD_PASS'],
      env,
    )
    expect(await runCertdeskJson<DeviceJson[]>(['--data', locked, 'device', 'list'])).toHaveLength(1)
    expect((await runCertdesk(['--data', locked, 'device', 'show', device.deviceId])).stdout).toMatch(
      /Device key: +\(sealed: give --passphrase-env to see it\)/,
    )
    const shown = await runCertdeskJson<DeviceJson>(
      ['--data', locked, 'device', 'show', device.deviceId, '--passphrase-env', 'CD_PASS'],
      env,
    )
    expect(shown.deviceKey).toBe(device.deviceKey)
    await expectRefusal(['--data', locked, 'cert', 'export', cert.id, '--out', join(folder, 'locked.zip')], /passphrase/)
    await runCertdeskJson(
      ['--data', locked, 'cert', 'export', cert.id, '--out', join(folder, 'locked.zip'), '--passphrase-env', 'CD_PASS'],
      env,
    )
  })
})
