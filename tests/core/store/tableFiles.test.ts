// Schema 3's table files: a change writes the buckets it touches, lookups follow edits, readers
// holding an older head read on, and an upgrade from one whole index keeps every record.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { RegistryStore } from '../../../src-main/core/store/registryStore'
import type { StoreData } from '../../../src-main/core/store/schema'
import { BUCKETS, bucketOf } from '../../../src-main/core/store/tableFiles'
import { checkDataFolder } from '../../../src-main/core/store/doctor'
import { Workspace } from '../../../src-main/core/workspace'
import { registryContents } from '../../helpers/registryContents'
import { editStoredEntry, readStoredHead, readStoredRegistry, writeWholeIndex } from '../../helpers/storedRegistry'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../../helpers/tools'
import { refusalOf as errorOf } from '../../helpers/errors'

const DEVICES = 300

/** Every table file, relative to the tables folder. */
function tableFiles(dataDir: string): Set<string> {
  const root = join(dataDir, 'tables')
  return new Set(
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name))),
  )
}

const minus = (a: Set<string>, b: Set<string>) => [...a].filter((name) => !b.has(name)).sort()

let dataDir: string
let workspace: Workspace

beforeAll(async () => {
  dataDir = join(await temporaryFolder(), 'data')
  workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
  const lines = [
    'name,device_id,auth',
    ...Array.from({ length: DEVICES }, (_, i) => `Device ${i},table-${String(i).padStart(6, '0')},cert`),
  ]
  await workspace.provision(`${lines.join('\n')}\n`, {})
})

describe('schema 3 table files', () => {
  it('spreads a registry over bucket files and names them in a small head', () => {
    const head = JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8'))
    expect(head.schemaVersion).toBe(3)
    expect(head).not.toHaveProperty('devices')
    expect(statSync(join(dataDir, 'config.json')).size).toBeLessThan(40_000)
    const files = tableFiles(dataDir)
    // 300 devices, certificates and bindings land in most buckets of each table.
    for (const table of ['certificates', 'devices', 'bindings', 'keys']) {
      const count = [...files].filter((name) => name.startsWith(`${table}/`)).length
      expect(count, table).toBeGreaterThan(BUCKETS / 2)
      expect(count, table).toBeLessThanOrEqual(BUCKETS)
    }
    for (const name of files) expect(statSync(join(dataDir, 'tables', name)).mode & 0o777).toBe(0o600)
  })

  it('a change writes only the buckets it touches, as new files, and removes the ones they replace', async () => {
    const device = workspace.listDevices()[7]
    const before = tableFiles(dataDir)
    await workspace.updateDevice(device.deviceId, { name: 'Renamed device' })
    const after = tableFiles(dataDir)
    // One device bucket replaced: the device's name is not a lookup key, so no key file changes.
    expect(minus(after, before)).toEqual([expect.stringMatching(new RegExp(`^devices/${bucketOf(device.id)}\\.\\d+\\.json$`))])
    expect(minus(before, after)).toEqual([expect.stringMatching(new RegExp(`^devices/${bucketOf(device.id)}\\.\\d+\\.json$`))])

    // A certificate's name is a lookup key: its bucket and the key buckets of old and new name.
    const certificate = workspace.listCertificates()[3]
    const beforeRename = tableFiles(dataDir)
    await workspace.updateCertificate(certificate.id, { name: 'Renamed certificate' })
    const added = minus(tableFiles(dataDir), beforeRename)
    const keyBuckets = new Set([bucketOf(`n:${certificate.name.toLocaleLowerCase()}`), bucketOf('n:renamed certificate')])
    expect(added.filter((name) => name.startsWith('certificates/'))).toHaveLength(1)
    expect(added.filter((name) => name.startsWith('keys/'))).toHaveLength(keyBuckets.size)
    expect(added).toHaveLength(1 + keyBuckets.size)
  })

  it('lookups follow a record edited in place, in this process and the next', async () => {
    const [certificate] = workspace.listCertificates()
    await workspace.updateCertificate(certificate.id, { name: 'Edited in place' })
    for (const data of [workspace.snapshot(), (await Workspace.open(dataDir)).snapshot()]) {
      expect(data.certificates.byName('EDITED IN PLACE')?.id).toBe(certificate.id)
      expect(data.certificates.byName(certificate.name)).toBeUndefined()
      expect(data.certificates.byFingerprint(certificate.fingerprint256)?.id).toBe(certificate.id)
      expect(data.certificates.withCommonName(certificate.cn).map((record) => record.id)).toEqual([certificate.id])
    }
    // A deleted device's ID is free again, and finds nothing.
    const device = await workspace.createDevice({ name: 'Short-lived', authType: 'token', deviceId: 'short-lived-01' })
    expect(workspace.snapshot().devices.byDeviceId('short-lived-01')?.id).toBe(device.id)
    await workspace.deleteDevice(device.id)
    expect(workspace.snapshot().devices.byDeviceId('short-lived-01')).toBeUndefined()
    expect((await checkDataFolder(dataDir)).findings.find((finding) => finding.check === 'lookups')?.status).toBe('ok')
  })

  it('a reader holding an older head reads on when a writer in another process has replaced its files', async () => {
    const reader = await RegistryStore.open(dataDir)
    const stale = reader.read()
    const device = workspace.listDevices()[11]
    // Another writer (here: another store on the folder) renames the device: its bucket file is replaced.
    await workspace.updateDevice(device.id, { name: 'Changed meanwhile' })
    expect(stale.devices.get(device.id)?.name).toBe('Changed meanwhile')
    expect(reader.read()).not.toBe(stale)
    expect(reader.read().devices.byDeviceId(device.deviceId)?.name).toBe('Changed meanwhile')
  })

  it('doctor finds lookup keys that do not match the records, and --repair rebuilds them', async () => {
    const device = workspace.listDevices()[20]
    // A restore from elsewhere left a key naming the wrong device, and dropped another.
    editStoredEntry(dataDir, 'keys', `d:${device.deviceId}`, () => 'dev_nothere000')
    const other = workspace.listDevices()[21]
    editStoredEntry(dataDir, 'keys', `d:${other.deviceId}`, () => null)
    const found = await checkDataFolder(dataDir)
    expect(found.findings.find((finding) => finding.check === 'lookups')).toMatchObject({ status: 'problem' })
    const repaired = await checkDataFolder(dataDir, { repair: true })
    expect(repaired.findings.find((finding) => finding.check === 'lookups')).toMatchObject({ status: 'repaired' })
    const reopened = await Workspace.open(dataDir)
    expect(reopened.getDevice(device.deviceId).id).toBe(device.id)
    expect(reopened.getDevice(other.deviceId).id).toBe(other.id)
    expect((await checkDataFolder(dataDir)).healthy).toBe(true)
  })

  it('a lost head is restored from its backup with the newest table files, so no record is lost', async () => {
    const folder = join(await temporaryFolder(), 'data')
    const own = await Workspace.initialise(folder, { keyType: 'ec-p256' })
    await own.createDevice({ name: 'First', authType: 'cert', deviceId: 'restore-first' })
    await own.createDevice({ name: 'Last', authType: 'cert', deviceId: 'restore-last' })
    const records = (data: StoreData) => JSON.stringify({ ...JSON.parse(registryContents(data)), audit: undefined })
    const before = records(own.snapshot())
    rmSync(join(folder, 'config.json'))
    const report = await checkDataFolder(folder, { restoreIndex: true })
    expect(report.findings[0]).toMatchObject({ check: 'index', status: 'repaired' })
    expect(report.healthy).toBe(true)
    // The backup is the head before the last change; the tables on disk still have that change.
    // (Only the head's own fields are as old as the backup: here, the audit log's head.)
    expect(records((await Workspace.open(folder)).snapshot())).toBe(before)
  })
})

describe('upgrading a folder from one whole index (schema 2)', () => {
  it('moves every record into the tables, keeps the old file, and upgrades once', async () => {
    const folder = join(await temporaryFolder(), 'data')
    const own = await Workspace.initialise(folder, { keyType: 'ec-p256' })
    const lines = ['name,device_id,auth', ...Array.from({ length: 40 }, (_, i) => `Old ${i},old-device-${String(i).padStart(4, '0')},cert`)]
    await own.provision(`${lines.join('\n')}\n`, {})
    await own.renewCertificate(own.listCertificates()[0].id, {})
    const before = registryContents(own.snapshot())
    const whole = readStoredRegistry(folder)
    writeWholeIndex(folder, whole)
    const schemaTwo = readFileSync(join(folder, 'config.json'), 'utf8')

    const upgraded = await Workspace.open(folder)
    expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).schemaVersion).toBe(3)
    expect(readFileSync(join(folder, 'config.json.schema-2.bak'), 'utf8')).toBe(schemaTwo)
    expect(registryContents(upgraded.snapshot())).toBe(before)
    expect((await checkDataFolder(folder)).healthy).toBe(true)
    // Opened again: nothing more to upgrade, no new files.
    const files = tableFiles(folder)
    await Workspace.open(folder)
    expect(tableFiles(folder)).toEqual(files)
    expect(existsSync(join(folder, 'config.json.schema-3.bak'))).toBe(false)
  })
})

describe('the edges a review found', () => {
  async function ownFolder() {
    const folder = join(await temporaryFolder(), 'data')
    return { folder, workspace: await Workspace.initialise(folder, { keyType: 'ec-p256' }) }
  }

  it('a writer whose lock was taken over while it stalled commits nothing', async () => {
    const { folder, workspace } = await ownFolder()
    const store = await RegistryStore.open(folder)
    const head = readFileSync(join(folder, 'config.json'), 'utf8')
    const refused = await errorOf(
      store.mutate((data) => {
        data.devices.put({ ...newDevice('stalled-device'), id: 'dev_stalled000' })
        // What another process does when this one has not refreshed the lock for 10 s.
        rmSync(join(folder, '.lock'), { recursive: true })
        mkdirSync(join(folder, '.lock'))
        writeFileSync(join(folder, '.lock.owner'), JSON.stringify({ pid: 1, host: 'elsewhere', ino: 0 }))
      }),
    )
    expect(refused.code).toBe('LOCKED')
    expect(refused.message).toMatch(/stalled for more than 10 seconds and another Certdesk process took over the lock; nothing was changed/)
    expect(readFileSync(join(folder, 'config.json'), 'utf8')).toBe(head)
    // (Released by this process as it ended: the other one here is make-believe.)
    rmSync(join(folder, '.lock'), { recursive: true, force: true })
    rmSync(join(folder, '.lock.owner'), { force: true })
    expect((await RegistryStore.open(folder)).unnamedTableFiles()).toEqual([])
    expect(workspace.listDevices()).toEqual([])
  })

  it('a table file the head names but that is gone is one sentence on read, and a doctor finding', async () => {
    const { folder, workspace } = await ownFolder()
    const device = await workspace.createDevice({ name: 'Lost', authType: 'token', deviceId: 'lost-device-01' })
    const head = readStoredHead(folder)
    const slot = `devices/${bucketOf(device.id)}`
    rmSync(join(folder, 'tables', `${slot}.${head.tables.files[slot]}.json`))
    const reopened = await Workspace.open(folder)
    const refused = await errorOf(Promise.resolve().then(() => reopened.listDevices()))
    expect(refused.code).toBe('CORRUPT_STORE')
    expect(refused.message).toMatch(/devices\/[0-9a-f]{2}\.\d+\.json, named by the registry index, cannot be read/)
    const report = await checkDataFolder(folder)
    expect(report.healthy).toBe(false)
    expect(report.findings.find((finding) => finding.check === 'tables')?.status).toBe('problem')
  })

  it('doctor restores the last write backup before an older schema backup, whatever their times', async () => {
    const { folder, workspace } = await ownFolder()
    await workspace.createDevice({ name: 'Before upgrade', authType: 'cert', deviceId: 'restore-before-1' })
    writeWholeIndex(folder, readStoredRegistry(folder))
    const upgraded = await Workspace.open(folder)
    await upgraded.createDevice({ name: 'After upgrade', authType: 'cert', deviceId: 'restore-after-1' })
    await upgraded.createDevice({ name: 'Later still', authType: 'cert', deviceId: 'restore-after-2' })
    // The schema-2 backup looks newest (a protection change rewrites every backup).
    const later = new Date(Date.now() + 60_000)
    utimesSync(join(folder, 'config.json.schema-2.bak'), later, later)
    rmSync(join(folder, 'config.json'))
    const report = await checkDataFolder(folder, { restoreIndex: true })
    expect(report.findings[0].message).toMatch(/restored it from config\.json\.bak/)
    // As a set: two of these may be made in the same millisecond, and then their order is the ids'.
    expect(
      (await Workspace.open(folder))
        .listDevices()
        .map((device) => device.deviceId)
        .sort(),
    ).toEqual(['restore-after-1', 'restore-after-2', 'restore-before-1'])
  })

  it('certificate names are folded the same in every locale (the lookup keys are stored)', async () => {
    const { folder } = await ownFolder()
    const created = await runCertdesk(['--data', folder, 'cert', 'create', '--name', 'İZMİR'], {
      LC_ALL: 'tr_TR.UTF-8',
      LANG: 'tr_TR.UTF-8',
    })
    expect(created.code, created.stderr).toBe(0)
    const report = await runCertdeskJson<{ findings: { check: string; status: string }[] }>(['--data', folder, 'doctor'], {
      LC_ALL: 'C.UTF-8',
      LANG: 'C.UTF-8',
    })
    expect(report.findings.find((finding) => finding.check === 'lookups')?.status).toBe('ok')
    // The same name in other letters' case is the same name, from either locale.
    const again = await runCertdesk(['--data', folder, 'cert', 'create', '--name', 'i̇zmi̇r'], { LC_ALL: 'C.UTF-8' })
    expect(again.code).toBe(1)
  })

  it("a device's certificates are listed in the order they were bound, as its own view has them", async () => {
    const { workspace } = await ownFolder()
    const device = await workspace.createDevice({ name: 'Many', authType: 'cert', deviceId: 'order-device-01' })
    const certificates = []
    for (let i = 0; i < 6; i++) {
      const certificate = await workspace.issueDeviceCertificate({ name: `order ${i}` })
      await workspace.bindDevices(certificate.id, [device.deviceId])
      certificates.push(certificate.id)
    }
    expect(workspace.getDevice(device.deviceId).certificateIds).toEqual(certificates)
    expect(workspace.listDevices()[0].certificateIds).toEqual(certificates)
  })

  it('a replaced record keeps its place among certificates sharing a common name', async () => {
    const { folder, workspace } = await ownFolder()
    const first = await workspace.issueDeviceCertificate({ name: 'sensor' })
    await workspace.renewCertificate(first.id, {})
    const store = await RegistryStore.open(folder)
    const oldest = () => store.read().certificates.byCommonName(first.cn)?.id
    expect(oldest()).toBe(first.id)
    await store.mutate((data) => {
      const record = data.certificates.get(first.id)
      if (record) data.certificates.put({ ...record })
    })
    expect(oldest()).toBe(first.id)
  })

  it('a commit replaces a leftover file of its own generation, and a folder in the tables is left alone', async () => {
    const { folder, workspace } = await ownFolder()
    const device = await workspace.createDevice({ name: 'Leftover', authType: 'token', deviceId: 'leftover-01' })
    const next = readStoredHead(folder).tables.generation + 1
    writeFileSync(join(folder, 'tables', 'devices', `${bucketOf(device.id)}.${next}.json`), '{"half":')
    mkdirSync(join(folder, 'tables', 'devices', 'someone-elses-folder'))
    // The app (a long-running process) writes without opening the folder again.
    await workspace.updateDevice(device.id, { name: 'Renamed' })
    expect((await Workspace.open(folder)).getDevice(device.deviceId).name).toBe('Renamed')
    expect(existsSync(join(folder, 'tables', 'devices', 'someone-elses-folder'))).toBe(true)
  })
})

function newDevice(deviceId: string) {
  const stamp = new Date().toISOString()
  return {
    id: '',
    name: deviceId,
    deviceId,
    username: deviceId,
    deviceKey: 'unused',
    authType: 'token' as const,
    createdAt: stamp,
    updatedAt: stamp,
  }
}
