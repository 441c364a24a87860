import { spawnSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CertdeskError } from '../../../src-main/core/errors'
import { checkDataFolder } from '../../../src-main/core/store/doctor'
import { HOST_TAG, clearDeadLock } from '../../../src-main/core/store/folderLock'
import { Workspace } from '../../../src-main/core/workspace'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../../helpers/tools'
import { editStoredEntry, editStoredRecord, readStoredHead, readStoredRegistry, storedRecords } from '../../helpers/storedRegistry'
import { folderSnapshot } from '../../helpers/cliChecks'

/** The pid of a process that has certainly ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(child.stdout.toString())
}

async function folderWithFleet() {
  const dataDir = join(await temporaryFolder('certdesk-doctor-'), 'data')
  const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
  await workspace.createDevice({ name: 'Pump', authType: 'cert', deviceId: 'pump-0001' })
  const certificate = await workspace.issueDeviceCertificate({ name: 'Pump cert' })
  await workspace.bindDevices(certificate.id, ['pump-0001'])
  return { dataDir, workspace, certificate }
}

async function errorOf(promise: Promise<unknown>): Promise<CertdeskError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof CertdeskError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('a missing index never costs the keys', () => {
  it('every command names the problem and the restore; ca init refuses to make a new CA over the old keys', async () => {
    const { dataDir, certificate } = await folderWithFleet()
    const vaultKey = await readFile(join(dataDir, 'vault.key'))
    const recordFiles = () => folderSnapshot(join(dataDir, 'tables', 'records'))
    const rootRecord = await recordFiles()
    await rm(join(dataDir, 'config.json'))

    const list = await runCertdesk(['--data', dataDir, 'cert', 'list'])
    expect(list.code).toBe(1)
    // The two records (root CA, certificate) share a bucket file one time in 64: count what is there.
    const fileCount = Object.keys(rootRecord).length
    const files = fileCount === 1 ? '1 file' : `${fileCount} files`
    expect(list.stderr).toMatch(
      new RegExp(
        `^certdesk: The registry index .*config\\.json is missing, but the folder still holds keys \\(vault\\.key, ${files} of records in tables/records/\\); restore it with "certdesk doctor --restore-index" \\(from config\\.json\\.bak\\)`,
      ),
    )
    expect(list.stderr).not.toMatch(/ca init/)

    const init = await runCertdesk(['--data', dataDir, 'ca', 'init', '--key-type', 'ec-p256'])
    expect(init.code).toBe(1)
    expect(init.stderr).toMatch(/Certdesk will not create a new root CA over them/)
    // The core refuses too (the desktop app initialises only a folder with no keys in it).
    expect((await errorOf(Workspace.initialise(dataDir, { keyType: 'ec-p256' }))).code).toBe('INDEX_MISSING')
    expect((await errorOf(Workspace.open(dataDir))).code).toBe('INDEX_MISSING')
    expect(await readFile(join(dataDir, 'vault.key'))).toEqual(vaultKey)
    expect(await recordFiles()).toEqual(rootRecord)

    const checked = await runCertdesk(['--data', dataDir, 'doctor'])
    expect(checked.code).toBe(1)
    expect(checked.stdout).toMatch(/PROBLEM .*config\.json is missing; run "certdesk doctor --restore-index"/)

    const restored = await runCertdeskJson<{ healthy: boolean; findings: { check: string; status: string }[] }>([
      '--data',
      dataDir,
      'doctor',
      '--restore-index',
    ])
    expect(restored.healthy).toBe(true)
    expect(restored.findings[0]).toMatchObject({ check: 'index', status: 'repaired' })
    // The backup is the index before the last write (the binding), so the certificate is there.
    const certificates = await runCertdeskJson<{ id: string }[]>(['--data', dataDir, 'cert', 'list'])
    expect(certificates.map((c) => c.id)).toContain(certificate.id)
    const bundle = await runCertdesk(['--data', dataDir, 'cert', 'export', certificate.id, '--out', join(dataDir, '..', 'after.zip')])
    expect(bundle.code, bundle.stderr).toBe(0)
  })

  it('an init that was killed half-way can simply be run again', async () => {
    const dataDir = join(await temporaryFolder('certdesk-doctor-'), 'data')
    await mkdir(join(dataDir, 'records'), { recursive: true })
    // What a killed `ca init` leaves: its marker, a vault key and the root's record, no index.
    await writeFile(join(dataDir, '.init-in-progress'), `${HOST_TAG}:${deadPid()}`)
    await writeFile(join(dataDir, 'vault.key'), 'AAAA\n', { mode: 0o600 })
    await writeFile(join(dataDir, 'records', 'root-ca.json'), '{}')
    const ca = await runCertdeskJson<{ fingerprint256: string }>(['--data', dataDir, 'ca', 'init', '--key-type', 'ec-p256'])
    expect(ca.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}/)
    expect(existsSync(join(dataDir, '.init-in-progress'))).toBe(false)
    expect((await runCertdesk(['--data', dataDir, 'doctor'])).code).toBe(0)
  })
})

describe('certdesk doctor', () => {
  it('finds leftovers of a killed process, a dead lock, orphan records and dangling bindings, and mends them', async () => {
    const { dataDir, workspace, certificate } = await folderWithFleet()
    const pid = deadPid()
    // A commit killed before its head (a bucket file no head names), atomically's temporary index
    // copy, an orphan record.
    const unnamed = join(dataDir, 'tables', 'devices', `00.${readStoredHead(dataDir).tables.generation + 1}.json`)
    await writeFile(unnamed, '{}')
    await writeFile(join(dataDir, 'config.json.tmp-1234567890abcdef'), '{}')
    editStoredEntry(dataDir, 'records', 'crt_orphan0000', () => storedRecords(dataDir)[certificate.id])
    // A lock held by a process that was killed.
    await mkdir(join(dataDir, '.lock'))
    const ino = (await stat(join(dataDir, '.lock'))).ino
    await writeFile(join(dataDir, '.lock.owner'), JSON.stringify({ pid, host: hostname(), ino }))
    // A binding whose device is gone (an index restored from an older backup can hold one).
    editStoredEntry(dataDir, 'bindings', certificate.id, (bindings = []) => [
      ...bindings,
      { certificateId: certificate.id, deviceRecordId: 'dev_gone000000', createdAt: new Date().toISOString() },
    ])

    const before = await checkDataFolder(dataDir)
    const status = Object.fromEntries(before.findings.map((f) => [f.check, f.status]))
    // Opening a folder sweeps leftovers and dead locks by itself; orphans and bindings wait for --repair.
    expect(status).toMatchObject({
      index: 'ok',
      leftovers: 'repaired',
      lock: 'repaired',
      vault: 'ok',
      records: 'ok',
      orphans: 'problem',
      bindings: 'problem',
    })
    expect(before.healthy).toBe(false)
    expect(existsSync(join(dataDir, 'config.json.tmp-1234567890abcdef'))).toBe(false)
    expect(existsSync(unnamed)).toBe(false)
    expect(existsSync(join(dataDir, '.lock'))).toBe(false)

    const repaired = await checkDataFolder(dataDir, { repair: true })
    expect(repaired.healthy).toBe(true)
    expect(existsSync(join(dataDir, 'orphaned', 'crt_orphan0000.json'))).toBe(true)
    expect(workspace.snapshot().bindings.all().length).toBe(1)
    expect((await checkDataFolder(dataDir)).findings.every((f) => f.status === 'ok')).toBe(true)
  })

  it('a record file that holds another certificate is caught by its fingerprint, on read and by doctor', async () => {
    const { dataDir, workspace, certificate } = await folderWithFleet()
    const other = await workspace.issueDeviceCertificate({ name: 'Other' })
    const otherPem = storedRecords(dataDir)[other.id].certificatePem
    expect(new X509Certificate(otherPem).fingerprint256).not.toBe(certificate.fingerprint256)
    editStoredEntry(dataDir, 'records', certificate.id, (record) => ({ ...record, certificatePem: otherPem }))
    expect((await errorOf(workspace.certificatePem(certificate.id))).message).toMatch(/does not match the registry/)
    expect((await errorOf(workspace.exportDeviceBundle(certificate.id))).code).toBe('CORRUPT_STORE')
    const report = await checkDataFolder(dataDir)
    expect(report.healthy).toBe(false)
    expect(report.findings.find((f) => f.check === 'records')?.message).toMatch(
      new RegExp(`${certificate.id} holds a different certificate`),
    )
  })

  it('a lock whose holder still runs is left alone', async () => {
    const { dataDir } = await folderWithFleet()
    await mkdir(join(dataDir, '.lock'))
    const ino = (await stat(join(dataDir, '.lock'))).ino
    await writeFile(join(dataDir, '.lock.owner'), JSON.stringify({ pid: process.pid, host: hostname(), ino }))
    expect(clearDeadLock(dataDir)).toBe(false)
    expect(existsSync(join(dataDir, '.lock'))).toBe(true)
    await rm(join(dataDir, '.lock'), { recursive: true })
  })

  it('an index with a field of the wrong type is reported in one sentence, not a crash', async () => {
    const { dataDir } = await folderWithFleet()
    const [id] = Object.keys(readStoredRegistry(dataDir).certificates)
    editStoredRecord(dataDir, 'certificates', id, (record) => (record.enabled = 'yes'))
    const result = await runCertdesk(['--data', dataDir, 'cert', 'list'])
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toMatch(
      new RegExp(
        `^certdesk: .*tables/certificates/[0-9a-f]{2}\\.\\d+\\.json is damaged \\(certificates\\.${id}\\.enabled: .*\\); restore it from a backup or run "certdesk doctor"\\.$`,
      ),
    )
    expect(await readdir(dataDir)).toContain('config.json.bak')
  })
})
