// `--only-changes-since`: of a new export, only what differs from an earlier one, with the users
// added, changed and removed; unchanged token devices keep their hashes.
import { execFileSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { exportForBroker } from '../../../src-main/core/brokerExport'
import { CHANGES_FILE, EXPORTED_USERS, type ExportFolderFiles, changesSince, textOf } from '../../../src-main/core/brokerExport/changes'
import { earlierExportOf, readEarlierExport } from '../../../src-main/core/brokerExport/earlierExport'
import { BROKER_TARGETS, type BrokerExportFile, type BrokerExportInput, type BrokerTarget } from '../../../src-main/core/brokerExport/types'
import { writeBrokerExport } from '../../../src-main/core/brokerExport/write'
import { CertdeskError } from '../../../src-main/core/errors'
import { type Fleet, makeFleet } from '../../helpers/fleet'
import { temporaryFolder } from '../../helpers/tools'

const asFolder = (files: readonly BrokerExportFile[]): ExportFolderFiles =>
  new Map(files.map((file) => [file.path, Buffer.from(file.contents)]))
const pathsOf = (files: readonly BrokerExportFile[]) => files.map((file) => file.path).sort()

/** Files of every export that change each time: the fresh CRL (and its hashed name for RabbitMQ). */
const CRL_FILES: Record<BrokerTarget, string[]> = {
  mosquitto: ['certs/crl.pem'],
  rabbitmq: ['certs/crl.pem', 'crl/'],
  emqx: ['certs/crl.pem'],
}
const isCrlFile = (target: BrokerTarget, path: string) => CRL_FILES[target].some((prefix) => path.startsWith(prefix))

describe.each(BROKER_TARGETS)('an export for %s since an earlier one', (target) => {
  let fleet: Fleet
  let earlier: ExportFolderFiles

  beforeAll(async () => {
    fleet = await makeFleet()
    earlier = asFolder(exportForBroker(target, await fleet.workspace.brokerExportInput(['localhost'])))
  })

  it('with nothing changed, holds only the fresh CRL and a CHANGES.md saying no user changed', async () => {
    const changes = await fleet.workspace.exportChangesForBroker(target, earlierExportOf('/srv/earlier', earlier, target), {
      hosts: ['localhost'],
    })
    expect(changes.users).toEqual({ added: [], changed: [], removed: [] })
    expect(changes.gone).toEqual([])
    expect(changes.files.filter((file) => file.path !== CHANGES_FILE && !isCrlFile(target, file.path))).toEqual([])
    const text = changes.files.find((file) => file.path === CHANGES_FILE)?.contents.toString() ?? ''
    expect(text).toContain('No user was added, changed or removed.')
    expect(text).toContain('/srv/earlier')
  })

  it('names the users added, with a new key and removed, and keeps the hash of one that did not change', async () => {
    const { workspace } = fleet
    const kept = await workspace.createDevice({ name: 'Kept', authType: 'token', deviceId: `kept-${target}` })
    const renewed = await workspace.createDevice({ name: 'Renewed', authType: 'token', deviceId: `renewed-${target}` })
    const gone = await workspace.createDevice({ name: 'Gone', authType: 'token', deviceId: `gone-${target}` })
    const before = exportForBroker(target, await workspace.brokerExportInput(['localhost']))
    const beforeUsers = EXPORTED_USERS[target](textOf(asFolder(before))).tokens
    expect(beforeUsers.get(kept.username)).toMatch(/.+/)

    await workspace.regenerateDeviceKey(renewed.deviceId)
    await workspace.deleteDevice(gone.deviceId)
    const added = await workspace.createDevice({ name: 'Added', authType: 'token', deviceId: `added-${target}` })
    await workspace.revokeCertificate(fleet.certificate.id)

    const changes = await workspace.exportChangesForBroker(target, earlierExportOf('/srv/earlier', asFolder(before), target), {
      hosts: ['localhost'],
    })
    // EMQX keeps no user for a certificate (its CN is checked by acl.conf): a revocation removes none.
    const revokedUser = target === 'emqx' ? [] : [fleet.certificate.cn]
    expect(changes.users).toEqual({
      added: [added.username],
      changed: [renewed.username],
      removed: [gone.username, ...revokedUser].sort(),
    })
    const afterUsers = EXPORTED_USERS[target](textOf(new Map([...asFolder(before), ...asFolder(changes.files)]))).tokens
    expect(afterUsers.get(kept.username)).toBe(beforeUsers.get(kept.username))
    expect(afterUsers.get(renewed.username)).not.toBe(beforeUsers.get(renewed.username))
    // Nothing of the earlier export that is unchanged is written again.
    const beforeFiles = asFolder(before)
    for (const file of changes.files.filter((file) => file.path !== CHANGES_FILE)) {
      expect(beforeFiles.get(file.path)?.equals(Buffer.from(file.contents)) ?? false, file.path).toBe(false)
    }
    const text = changes.files.find((file) => file.path === CHANGES_FILE)?.contents.toString() ?? ''
    expect(text).toContain(`| ${added.username} | token device | added |`)
    expect(text).toContain(`| ${renewed.username} | token device | key changed |`)
    expect(text).toContain(`| ${gone.username} | token device | removed |`)
    if (target === 'rabbitmq') {
      expect(text).toContain(`rabbitmqctl delete_user -- '${gone.username}'`)
      expect(text).toContain(`rabbitmqctl delete_user -- '${fleet.certificate.cn}'`)
      expect(text).toContain('rabbitmqctl import_definitions /etc/rabbitmq/certdesk/definitions.json')
    }
    if (target === 'emqx')
      expect(text).toContain(
        `curl --path-as-is -u KEY:SECRET -X DELETE 'http://HOST:18083/api/v5/authentication/password_based%3Abuilt_in_database/users/${gone.username}'`,
      )
    if (target === 'mosquitto') expect(text).toContain('systemctl reload mosquitto')
  })

  it('gives a token device a fresh salt when the earlier hash does not match its key', async () => {
    const input = await fleet.workspace.brokerExportInput(['localhost'])
    const device = input.tokenDevices[0]
    const full = exportForBroker(target, input)
    const stored = EXPORTED_USERS[target](textOf(asFolder(full))).tokens.get(device.username)!
    const other = { ...input, tokenDevices: input.tokenDevices.map((d) => (d === device ? { ...d, deviceKey: `${d.deviceKey}x` } : d)) }
    const again = EXPORTED_USERS[target](
      textOf(asFolder(exportForBroker(target, { ...other, previousCredentials: new Map([[device.username, stored]]) }))),
    )
    expect(again.tokens.get(device.username)).not.toBe(stored)
    const same = EXPORTED_USERS[target](
      textOf(asFolder(exportForBroker(target, { ...input, previousCredentials: new Map([[device.username, stored]]) }))),
    )
    expect(same.tokens.get(device.username)).toBe(stored)
  })
})

describe('the earlier export', () => {
  let root: string
  let fleet: Fleet

  beforeAll(async () => {
    fleet = await makeFleet()
    root = await temporaryFolder('certdesk-earlier-export-')
  })

  async function refusal(dir: string, target: BrokerTarget): Promise<CertdeskError> {
    const error = await readEarlierExport(dir, target).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(CertdeskError)
    return error as CertdeskError
  }

  it('is read back as written, by path', async () => {
    const files = exportForBroker('rabbitmq', await fleet.workspace.brokerExportInput(['localhost']))
    await writeBrokerExport(join(root, 'whole'), files)
    const read = await readEarlierExport(join(root, 'whole'), 'rabbitmq')
    expect([...read.files.keys()].sort()).toEqual(pathsOf(files))
  })

  it('is refused in one sentence when missing, for another target, only changes, or damaged', async () => {
    expect((await refusal(join(root, 'nowhere'), 'mosquitto')).message).toBe(
      `${join(root, 'nowhere')} does not exist; give the folder of an earlier export.`,
    )
    await mkdir(join(root, 'empty'))
    expect((await refusal(join(root, 'empty'), 'mosquitto')).message).toBe(
      `${join(root, 'empty')} is not a whole Certdesk export for mosquitto (it has no certs/ca.crt); give the folder of an earlier export for it.`,
    )
    await writeBrokerExport(join(root, 'emqx'), exportForBroker('emqx', await fleet.workspace.brokerExportInput(['localhost'])))
    expect((await refusal(join(root, 'emqx'), 'rabbitmq')).message).toMatch(
      /is not a whole Certdesk export for RabbitMQ \(it has no definitions\.json\)/,
    )
    // A folder of changes lacks what did not change.
    await writeBrokerExport(join(root, 'changes'), [
      { path: 'passwords', contents: 'x:$7$101$a$b\n', secret: true },
      { path: CHANGES_FILE, contents: '# Changes\n', secret: false },
    ])
    expect((await refusal(join(root, 'changes'), 'mosquitto')).message).toMatch(
      /holds only the changes of an export \(it has CHANGES\.md\)/,
    )
    const damaged = join(root, 'damaged')
    await writeBrokerExport(damaged, exportForBroker('rabbitmq', await fleet.workspace.brokerExportInput(['localhost'])))
    await writeFile(join(damaged, 'definitions.json'), '{"users": ')
    expect((await refusal(damaged, 'rabbitmq')).message).toBe(
      `${join(damaged, 'definitions.json')} of the earlier export is damaged (it is not valid JSON); give a whole export as Certdesk wrote it.`,
    )
    await writeFile(join(damaged, 'definitions.json'), '{"vhosts": []}')
    expect((await refusal(damaged, 'rabbitmq')).message).toMatch(/damaged \(it has no list of users\)/)
    await writeFile(join(damaged, 'definitions.json'), '{"users": []}')
    await writeFile(join(damaged, 'certdesk-export.json'), '{"format": 1, "target": "emqx"}')
    expect((await refusal(damaged, 'rabbitmq')).message).toBe(
      `${join(damaged, 'certdesk-export.json')} of the earlier export is damaged (it is not the settings of an export for RabbitMQ); give a whole export as Certdesk wrote it.`,
    )
  })

  it("reads a whole export with the changes (and their CHANGES.md) copied over it, through a link, and nothing that is not an export's", async () => {
    const dir = join(root, 'installed')
    await writeBrokerExport(dir, exportForBroker('mosquitto', await fleet.workspace.brokerExportInput(['localhost'])))
    await writeFile(join(dir, CHANGES_FILE), '# Changes\n')
    await writeFile(join(dir, 'passwords.bak'), 'old')
    await mkdir(join(dir, 'nested', 'certs'), { recursive: true })
    await writeFile(join(dir, 'nested', 'certs', 'ca.crt'), 'stray')
    await symlink(dir, join(root, 'installed-link'))
    const read = await readEarlierExport(join(root, 'installed-link'), 'mosquitto')
    expect([...read.files.keys()].sort()).toEqual([
      'README.md',
      'acl-mutual',
      'acl-one-way',
      'certdesk-export.json',
      'certs/ca.crt',
      'certs/crl.pem',
      'certs/server.crt',
      'certs/server.key',
      'mosquitto.conf',
      'passwords',
    ])
    const changes = await fleet.workspace.exportChangesForBroker('mosquitto', read, { hosts: ['localhost'] })
    expect(changes.gone).toEqual([])
  })
})

describe('the settings of the earlier export', () => {
  let fleet: Fleet
  let earlier: ExportFolderFiles
  const settings = { hosts: ['broker2.example.com'], installDir: '/opt/fleet/mosquitto', ports: { oneWay: 9883, mutual: 9884 } }

  beforeAll(async () => {
    fleet = await makeFleet()
    const input = await fleet.workspace.brokerExportInput(settings.hosts)
    earlier = asFolder(exportForBroker('mosquitto', { ...input, installDir: settings.installDir, ports: settings.ports }))
  })

  it('hold when a change set is asked for without them: the same certificate, ports and paths', async () => {
    const changes = await fleet.workspace.exportChangesForBroker('mosquitto', earlierExportOf('/srv/earlier', earlier, 'mosquitto'))
    expect(changes.files.map((file) => file.path).sort()).toEqual([CHANGES_FILE, 'certs/crl.pem'])
    const text = changes.files.find((file) => file.path === CHANGES_FILE)?.contents.toString() ?? ''
    expect(text).toContain('Copy over the installed folder (`/opt/fleet/mosquitto`)')
    expect(text).not.toMatch(/certificate changed|restart/)
  })

  it("give way to the operator's, and CHANGES.md says the broker's certificate changed and what to restart", async () => {
    const changes = await fleet.workspace.exportChangesForBroker('mosquitto', earlierExportOf('/srv/earlier', earlier, 'mosquitto'), {
      hosts: ['broker3.example.com'],
    })
    expect(changes.files.map((file) => file.path)).toEqual(
      expect.arrayContaining(['certs/server.crt', 'certs/server.key', 'certdesk-export.json']),
    )
    const text = changes.files.find((file) => file.path === CHANGES_FILE)?.contents.toString() ?? ''
    expect(text).toMatch(/\*\*The broker's certificate changed\*\*; its names are now: [^\n]*`broker3\.example\.com`/)
    expect(text).not.toContain('broker2.example.com')
    expect(text).toContain('restart mosquitto (`systemctl restart mosquitto`)')
  })
})

describe('what CHANGES.md says, for cases a registry allows', () => {
  let fleet: Fleet
  let real: BrokerExportInput

  beforeAll(async () => {
    fleet = await makeFleet()
    real = await fleet.workspace.brokerExportInput(['localhost'])
  })

  const token = (deviceId: string, username: string, deviceKey = `key-of-${deviceId}-0123456789abcdef`) => ({
    deviceId,
    username,
    deviceKey,
  })
  const bound = (cn: string) => ({
    deviceId: `cert-${cn}`,
    username: `user-${cn}`,
    certificates: [
      { name: cn, cn, serial: '0A', fingerprint256: 'AA', status: 'active' as const, enabled: true, notAfter: '2030-01-01T00:00:00Z' },
    ],
  })
  const inputWith = (overrides: Partial<BrokerExportInput>): BrokerExportInput => ({ ...real, ...overrides })
  const changesOf = (target: BrokerTarget, before: BrokerExportInput, after: BrokerExportInput) => {
    const earlier = asFolder(exportForBroker(target, before))
    const files = exportForBroker(target, { ...after, previousCredentials: EXPORTED_USERS[target](textOf(earlier)).tokens })
    const changes = changesSince(target, earlierExportOf('/srv/earlier', earlier, target), files)
    return { ...changes, text: changes.files.find((file) => file.path === CHANGES_FILE)?.contents.toString() ?? '' }
  }

  it('mosquitto: a token username that is also a certificate common name keeps its hash, and its key change shows', () => {
    const before = inputWith({ tokenDevices: [token('token-01', 'shared')], certificateDevices: [bound('shared')] })
    expect(changesOf('mosquitto', before, before).users).toEqual({ added: [], changed: [], removed: [] })
    expect(changesOf('mosquitto', before, before).files.map((file) => file.path)).not.toContain('passwords')
    const renewed = inputWith({ ...before, tokenDevices: [token('token-01', 'shared', 'another-key-0123456789abcdef')] })
    const changes = changesOf('mosquitto', before, renewed)
    expect(changes.users.changed).toEqual(['shared'])
    expect(changes.text).toContain('| shared | token device | key changed |')
  })

  it('mosquitto: an earlier folder with CRLF line ends has the same users', () => {
    const before = inputWith({ tokenDevices: [token('token-01', 'alpha')], certificateDevices: [bound('beta')] })
    const earlier = new Map(
      [...asFolder(exportForBroker('mosquitto', before))].map(([path, bytes]) => [
        path,
        Buffer.from(bytes.toString().replace(/\n/g, '\r\n')),
      ]),
    )
    const files = exportForBroker('mosquitto', { ...before, previousCredentials: EXPORTED_USERS.mosquitto(textOf(earlier)).tokens })
    expect(changesSince('mosquitto', earlierExportOf('/srv/earlier', earlier, 'mosquitto'), files).users).toEqual({
      added: [],
      changed: [],
      removed: [],
    })
  })

  it('names a file the new export no longer has (a CRL under an old issuer hash) to delete, and no stray file', () => {
    const earlier = new Map([
      ...asFolder(exportForBroker('rabbitmq', real)),
      ['crl/00000000.r0', Buffer.from('old CRL')],
      ['definitions.json.bak', Buffer.from('{}')],
    ])
    const changes = changesSince('rabbitmq', earlierExportOf('/srv/earlier', earlier, 'rabbitmq'), exportForBroker('rabbitmq', real))
    expect(changes.gone).toEqual(['crl/00000000.r0'])
    const text = changes.files.find((file) => file.path === CHANGES_FILE)?.contents.toString() ?? ''
    expect(text).toMatch(/Delete from the installed folder[^\n]*\n\n- `crl\/00000000\.r0`\n\n/)
    expect(text).not.toContain('definitions.json.bak')
  })

  it('RabbitMQ: a change of topic rules alone is imported too', () => {
    const before = inputWith({ tokenDevices: [token('token-01', 'alpha')], certificateDevices: [] })
    const after = inputWith({ ...before, topicRules: [{ action: 'all', topic: 'fleet/${clientid}/#', permission: 'allow' }] })
    const changes = changesOf('rabbitmq', before, after)
    expect(changes.users).toEqual({ added: [], changed: [], removed: [] })
    expect(changes.text).toContain('rabbitmqctl import_definitions /etc/rabbitmq/certdesk/definitions.json')
  })

  it('RabbitMQ and EMQX: the commands for a removed user reach the broker with its name exactly, whatever it holds', () => {
    const odd = ["it's", '-x', '..', 'a b'.replace(' ', '"'), '$(id)']
    const before = inputWith({ tokenDevices: odd.map((name, i) => token(`odd-${i}`, name)), certificateDevices: [] })
    const after = inputWith({ tokenDevices: [], certificateDevices: [] })
    const rabbit = changesOf('rabbitmq', before, after)
    const lines = rabbit.text.split('\n').filter((line) => line.startsWith('rabbitmqctl delete_user'))
    // The shell's own reading of each line: the words rabbitmqctl would get.
    const words = lines.map((line) =>
      execFileSync('bash', ['-c', `printf '%s\\n' ${line.slice('rabbitmqctl '.length)}`], { encoding: 'utf8' }),
    )
    expect(words.sort()).toEqual(odd.map((name) => `delete_user\n--\n${name}\n`).sort())
    const emqx = changesOf('emqx', before, after)
    const urls = emqx.text
      .split('\n')
      .filter((line) => line.startsWith('curl --path-as-is'))
      .map((line) => execFileSync('bash', ['-c', `printf '%s\\n' ${line.split(' DELETE ')[1]}`], { encoding: 'utf8' }).trim())
    const prefix = 'http://HOST:18083/api/v5/authentication/password_based%3Abuilt_in_database/users/'
    expect(urls.map((url) => url.slice(prefix.length)).sort()).toEqual(
      odd.map((name) => encodeURIComponent(name).replace(/\./g, '%2E')).sort(),
    )
    // Not one of them is "." or "..", which curl (without --path-as-is) or a server would resolve to the authenticator itself.
    expect(urls.every((url) => url.startsWith(prefix) && !/\/\.{1,2}$/.test(url))).toBe(true)
    expect(urls.map((url) => decodeURIComponent(url.slice(prefix.length))).sort()).toEqual([...odd].sort())
  })
})
