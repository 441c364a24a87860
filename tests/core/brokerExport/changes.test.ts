// `--only-changes-since`: of a new export, only what differs from an earlier one, with the users
// added, changed and removed; unchanged token devices keep their hashes.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { exportForBroker } from '../../../src-main/core/brokerExport'
import { CHANGES_FILE, EXPORTED_USERS, type ExportFolderFiles, textOf } from '../../../src-main/core/brokerExport/changes'
import { readEarlierExport } from '../../../src-main/core/brokerExport/earlierExport'
import { BROKER_TARGETS, type BrokerExportFile, type BrokerTarget } from '../../../src-main/core/brokerExport/types'
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
    const changes = await fleet.workspace.exportChangesForBroker(target, { dir: '/srv/earlier', files: earlier }, { hosts: ['localhost'] })
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
    const beforeUsers = EXPORTED_USERS[target](textOf(asFolder(before)))
    expect(beforeUsers.get(kept.username)).toMatch(/.+/)

    await workspace.regenerateDeviceKey(renewed.deviceId)
    await workspace.deleteDevice(gone.deviceId)
    const added = await workspace.createDevice({ name: 'Added', authType: 'token', deviceId: `added-${target}` })
    await workspace.revokeCertificate(fleet.certificate.id)

    const changes = await workspace.exportChangesForBroker(
      target,
      { dir: '/srv/earlier', files: asFolder(before) },
      { hosts: ['localhost'] },
    )
    // EMQX keeps no user for a certificate (its CN is checked by acl.conf): a revocation removes none.
    const revokedUser = target === 'emqx' ? [] : [fleet.certificate.cn]
    expect(changes.users).toEqual({
      added: [added.username],
      changed: [renewed.username],
      removed: [gone.username, ...revokedUser].sort(),
    })
    const afterUsers = EXPORTED_USERS[target](textOf(new Map([...asFolder(before), ...asFolder(changes.files)])))
    expect(afterUsers.get(kept.username)).toBe(beforeUsers.get(kept.username))
    expect(afterUsers.get(renewed.username)).not.toBe(beforeUsers.get(renewed.username))
    // Nothing of the earlier export that is unchanged is written again.
    const beforeFiles = asFolder(before)
    for (const file of changes.files.filter((file) => file.path !== CHANGES_FILE)) {
      expect(beforeFiles.get(file.path)?.equals(Buffer.from(file.contents)) ?? false, file.path).toBe(false)
    }
    const text = changes.files.find((file) => file.path === CHANGES_FILE)?.contents.toString() ?? ''
    expect(text).toContain(`| ${added.username} | added |`)
    expect(text).toContain(`| ${renewed.username} | key changed |`)
    expect(text).toContain(`| ${gone.username} | removed |`)
    if (target === 'rabbitmq') {
      expect(text).toContain(`rabbitmqctl delete_user '${gone.username}'`)
      expect(text).toContain(`rabbitmqctl delete_user '${fleet.certificate.cn}'`)
      expect(text).toContain('rabbitmqctl import_definitions /etc/rabbitmq/certdesk/definitions.json')
    }
    if (target === 'emqx')
      expect(text).toContain(
        `-X DELETE 'http://HOST:18083/api/v5/authentication/password_based%3Abuilt_in_database/users/${gone.username}'`,
      )
    if (target === 'mosquitto') expect(text).toContain('systemctl reload mosquitto')
  })

  it('gives a token device a fresh salt when the earlier hash does not match its key', async () => {
    const input = await fleet.workspace.brokerExportInput(['localhost'])
    const device = input.tokenDevices[0]
    const full = exportForBroker(target, input)
    const stored = EXPORTED_USERS[target](textOf(asFolder(full))).get(device.username)!
    const other = { ...input, tokenDevices: input.tokenDevices.map((d) => (d === device ? { ...d, deviceKey: `${d.deviceKey}x` } : d)) }
    const again = EXPORTED_USERS[target](
      textOf(asFolder(exportForBroker(target, { ...other, previousCredentials: new Map([[device.username, stored]]) }))),
    )
    expect(again.get(device.username)).not.toBe(stored)
    const same = EXPORTED_USERS[target](
      textOf(asFolder(exportForBroker(target, { ...input, previousCredentials: new Map([[device.username, stored]]) }))),
    )
    expect(same.get(device.username)).toBe(stored)
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
    expect([...read.keys()].sort()).toEqual(pathsOf(files))
  })

  it('is refused in one sentence when missing, for another target, only changes, or damaged', async () => {
    expect((await refusal(join(root, 'nowhere'), 'mosquitto')).message).toBe(
      `${join(root, 'nowhere')} is not a Certdesk export for mosquitto (it has no mosquitto.conf); give the folder of an earlier whole export for it.`,
    )
    await writeBrokerExport(join(root, 'emqx'), exportForBroker('emqx', await fleet.workspace.brokerExportInput(['localhost'])))
    expect((await refusal(join(root, 'emqx'), 'rabbitmq')).message).toMatch(
      /is not a Certdesk export for RabbitMQ \(it has no definitions\.json\)/,
    )
    await writeFile(join(root, 'emqx', CHANGES_FILE), '# changes\n')
    expect((await refusal(join(root, 'emqx'), 'emqx')).message).toMatch(/holds only the changes of an export \(it has CHANGES\.md\)/)
    await mkdir(join(root, 'damaged'))
    await writeFile(join(root, 'damaged', 'definitions.json'), '{"users": ')
    expect((await refusal(join(root, 'damaged'), 'rabbitmq')).message).toBe(
      `${join(root, 'damaged', 'definitions.json')} of the earlier export is damaged (it is not valid JSON); give a whole export as Certdesk wrote it.`,
    )
    await writeFile(join(root, 'damaged', 'definitions.json'), '{"vhosts": []}')
    expect((await refusal(join(root, 'damaged'), 'rabbitmq')).message).toMatch(/damaged \(it has no list of users\)/)
  })
})
