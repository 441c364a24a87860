import { readFile, readdir, stat, symlink, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { BROKER_TARGETS } from '../../src-main/core/brokerExport/types'
import { expectCliRefusal } from '../helpers/cliChecks'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

/** A pattern that matches exactly this sentence. */
const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)

let folder: string
let dataDir: string
let tokenKey: string
const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const exportArgs = (target: string, out: string, ...more: string[]) => [
  '--data',
  dataDir,
  'export',
  'broker',
  '--target',
  target,
  '--out',
  out,
  ...more,
]

/** Every file below a folder, relative, with its mode. */
async function filesIn(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      found.set(join(entry.parentPath, entry.name).slice(dir.length + 1), (await stat(join(entry.parentPath, entry.name))).mode & 0o777)
  }
  return found
}

beforeAll(async () => {
  folder = await temporaryFolder('certdesk-export-broker-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256')
  tokenKey = (await cli<{ deviceKey: string }>('device', 'create', '--name', 'Meter', '--auth', 'token', '--device-id', 'export-meter-01'))
    .deviceKey
  const certificate = await cli<{ id: string }>('cert', 'create', '--name', 'Pump certificate')
  await cli('device', 'create', '--name', 'Pump', '--auth', 'cert', '--device-id', 'export-pump-01')
  await cli('cert', 'bind', certificate.id, 'export-pump-01')
})

describe('certdesk export broker', () => {
  it.each(BROKER_TARGETS)('writes the %s export: secrets 0600, a README, no device key anywhere, and an audit entry', async (target) => {
    const out = join(folder, `out-${target}`)
    const result = await runCertdeskJson<{ target: string; files: { path: string; secret: boolean }[] }>(
      exportArgs(target, out, '--host', 'broker.example.com'),
    )
    expect(result.target).toBe(target)
    const files = await filesIn(out)
    expect([...files.keys()].sort()).toEqual(result.files.map((file) => file.path).sort())
    expect(files.get('README.md')).toBe(0o644)
    expect(files.get('certs/server.key')).toBe(0o600)
    for (const file of result.files) expect(files.get(file.path), file.path).toBe(file.secret ? 0o600 : 0o644)
    for (const path of files.keys()) expect(await readFile(join(out, path), 'utf8'), path).not.toContain(tokenKey)
    const audit = await cli<{ action: string; target: string }[]>('audit')
    expect(audit.at(-1)).toMatchObject({ action: 'broker.export-production', target })
  })

  it('with --only-changes-since, writes only the files that differ and CHANGES.md, naming the new user', async () => {
    const earlier = join(folder, 'out-mosquitto')
    const added = await cli<{ username: string }>(
      'device',
      'create',
      '--name',
      'Valve',
      '--auth',
      'token',
      '--device-id',
      'export-valve-01',
    )
    const out = join(folder, 'changes-mosquitto')
    const result = await runCertdeskJson<{ users: { added: string[]; changed: string[]; removed: string[] }; gone: string[] }>(
      exportArgs('mosquitto', out, '--host', 'broker.example.com', '--only-changes-since', earlier),
    )
    expect(result.users).toEqual({ added: [added.username], changed: [], removed: [] })
    expect(result.gone).toEqual([])
    // The new device's password line and ACL block, the fresh CRL, the README's user count.
    expect([...(await filesIn(out)).keys()].sort()).toEqual(['CHANGES.md', 'README.md', 'acl-one-way', 'certs/crl.pem', 'passwords'])
    const passwords = await readFile(join(out, 'passwords'), 'utf8')
    const earlierPasswords = await readFile(join(earlier, 'passwords'), 'utf8')
    // The device that was there keeps its line (salt and hash) byte for byte.
    const meterLine = earlierPasswords.split('\n').find((line) => line.includes(':$7$'))
    expect(meterLine).toBeDefined()
    expect(passwords.split('\n')).toContain(meterLine)
    await expectCliRefusal(
      exportArgs('mosquitto', join(folder, 'changes-refused'), '--only-changes-since', join(folder, 'out-emqx')),
      exactly(
        `certdesk: ${join(folder, 'out-emqx')} is not a whole Certdesk export for mosquitto (it has no mosquitto.conf); give the folder of an earlier export for it.`,
      ),
    )
    await expect(stat(join(folder, 'changes-refused'))).rejects.toThrow(/ENOENT/)
    // Inside the earlier export, the changes would become part of the next baseline.
    await expectCliRefusal(
      exportArgs('mosquitto', join(earlier, 'changes'), '--only-changes-since', earlier),
      exactly(`certdesk: Give --out a folder outside the earlier export ${earlier}, and not one that holds it.`),
    )
    await expect(stat(join(earlier, 'changes'))).rejects.toThrow(/ENOENT/)
    // Through a link to it, too.
    await symlink(earlier, join(folder, 'earlier-link'))
    await expectCliRefusal(
      exportArgs('mosquitto', join(earlier, 'changes'), '--only-changes-since', join(folder, 'earlier-link')),
      exactly(`certdesk: Give --out a folder outside the earlier export ${join(folder, 'earlier-link')}, and not one that holds it.`),
    )
    // The audit entry names the earlier export and the secret files the change set held.
    const audit = await cli<{ action: string; detail: { changesSince?: string; secretFiles?: string[] } }[]>('audit')
    expect(audit.filter((entry) => entry.action === 'broker.export-production').at(-1)?.detail).toMatchObject({
      changesSince: earlier,
      secretFiles: ['passwords'],
    })
    await cli('device', 'delete', 'export-valve-01')
  })

  it('warns that EMQX checks revocation only at a CRL distribution point, while the CA has none', async () => {
    const out = join(folder, 'emqx-warned')
    const result = await runCertdesk(['--data', dataDir, 'export', 'broker', '--target', 'emqx', '--out', out])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/this CA has no CRL distribution point, and EMQX checks revocation only there/)
    await cli('ca', 'set', '--crl-url', 'http://pki.example.com/root.crl')
    const quiet = await runCertdesk(['--data', dataDir, 'export', 'broker', '--target', 'emqx', '--out', join(folder, 'emqx-quiet')])
    expect(quiet.stdout).not.toMatch(/CRL distribution point/)
    const other = await runCertdesk(exportArgs('mosquitto', join(folder, 'mosquitto-quiet')))
    expect(other.stdout).not.toMatch(/CRL distribution point/)
  })

  it('refuses an unknown target, a relative install folder, a folder that holds files and equal ports, each in one sentence, writing nothing', async () => {
    const out = join(folder, 'refused')
    await expectCliRefusal(
      ['--data', dataDir, 'export', 'broker', '--target', 'hivemq', '--out', out],
      exactly('certdesk: "hivemq" is not a broker Certdesk exports for; choose one of mosquitto, rabbitmq, emqx.'),
    )
    await expectCliRefusal(
      ['--data', dataDir, 'export', 'broker', '--target', 'mosquitto', '--out', out, '--install-dir', 'etc/x'],
      exactly(
        `certdesk: "etc/x" is not an install folder Certdesk can write into a broker's configuration; give an absolute path of letters, digits, "_", "-", "." and "/".`,
      ),
    )
    await expectCliRefusal(
      ['--data', dataDir, 'export', 'broker', '--target', 'mosquitto', '--out', out, '--one-way-port', '9000', '--mutual-port', '9000'],
      exactly('certdesk: Give the one-way and the mutual listener different ports.'),
    )
    await expect(stat(out)).rejects.toThrow(/ENOENT/)
    const full = join(folder, 'full')
    await mkdir(full)
    await writeFile(join(full, 'keep.txt'), 'mine')
    const refused = await runCertdesk(['--data', dataDir, 'export', 'broker', '--target', 'emqx', '--out', full])
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(await readdir(full)).toEqual(['keep.txt'])
  })
})
