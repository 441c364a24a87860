import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SCHEMA_VERSION } from '../../../src-main/core/store/schema'
import { Workspace } from '../../../src-main/core/workspace'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../../helpers/tools'
import { codeOf } from '../../helpers/errors'
import { editStoredEntry, editStoredRecord, readStoredRegistry, storedRecords, writeWholeIndex } from '../../helpers/storedRegistry'

/** Every file below a folder, recursively. */
async function allFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}

describe('keys at rest', () => {
  it('no file in the data folder holds a private key in plaintext; the key file is 0600', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const certificate = await workspace.issueDeviceCertificate({ name: 'At rest' })
    for (const file of await allFiles(dataDir)) {
      expect(await readFile(file, 'utf8'), file).not.toContain('PRIVATE KEY')
    }
    expect((await stat(join(dataDir, 'vault.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dataDir, 'config.json'))).mode & 0o777).toBe(0o600)
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700)
    // Key material stays out of the index.
    expect(await readFile(join(dataDir, 'config.json'), 'utf8')).not.toMatch(/"(data|iv|tag)"|BEGIN/)
    expect(workspace.getRootCa().keyProtection).toBe('keyfile')
    // The key still comes back whole through the bundle.
    expect((await workspace.exportDeviceBundle(certificate.id)).length).toBeGreaterThan(500)
  })

  it('device keys (MQTT passwords) are sealed too: in no file in the clear, and bound to their device', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const meter = await workspace.createDevice({ name: 'Meter', authType: 'token' })
    const pump = await workspace.createDevice({ name: 'Pump', authType: 'token' })
    await workspace.regenerateDeviceKey(pump.id)
    expect(meter.deviceKey).toMatch(/^[A-Za-z0-9]{36}$/)
    for (const file of await allFiles(dataDir)) expect(await readFile(file, 'utf8'), file).not.toContain(meter.deviceKey)
    expect(workspace.getDevice(meter.id)).not.toHaveProperty('deviceKey')
    expect(await workspace.revealDeviceKey(meter.deviceId)).toBe(meter.deviceKey)
    // A sealed key copied onto another device does not open there.
    const meterKey = readStoredRegistry(dataDir).devices[meter.id].deviceKey
    editStoredRecord(dataDir, 'devices', pump.id, (record) => (record.deviceKey = meterKey))
    expect(await codeOf((await Workspace.open(dataDir)).revealDeviceKey(pump.id))).toBe('CORRUPT_STORE')
  })

  it('a folder from before sealing has its device keys sealed on open, in the index and its backups', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const meter = await workspace.createDevice({ name: 'Meter', authType: 'token' })
    // Make it the folder Certdesk 0.1 wrote: one index file, the key in the clear, and a migration backup.
    const index = readStoredRegistry(dataDir)
    index.devices[meter.id].deviceKey = meter.deviceKey
    writeWholeIndex(dataDir, index)
    await writeFile(join(dataDir, 'config.json.schema-1.bak'), JSON.stringify(index))
    const reopened = await Workspace.open(dataDir)
    expect(await reopened.revealDeviceKey(meter.id)).toBe(meter.deviceKey)
    for (const file of await allFiles(dataDir)) expect(await readFile(file, 'utf8'), file).not.toContain(meter.deviceKey)
    expect(JSON.parse(await readFile(join(dataDir, 'config.json.schema-1.bak'), 'utf8')).devices[meter.id].deviceKey).toHaveProperty('tag')
    // The upgrade's own backup of the schema-2 file too, and the flag that made the open look is gone.
    expect(JSON.parse(await readFile(join(dataDir, 'config.json.schema-2.bak'), 'utf8')).devices[meter.id].deviceKey).toHaveProperty('tag')
    expect(JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8'))).not.toHaveProperty('unsealedDeviceKeys')
  })

  it('a passphrase protects the vault: required, and a wrong one is refused', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    await Workspace.initialise(dataDir, { keyType: 'ec-p256', passphrase: 'correct horse battery' })
    expect(await readdir(dataDir)).not.toContain('vault.key')
    const withoutPassphrase = await Workspace.open(dataDir)
    expect(withoutPassphrase.getRootCa().keyProtection).toBe('passphrase')
    expect(withoutPassphrase.listCertificates()).toEqual([])
    expect(await codeOf(withoutPassphrase.issueDeviceCertificate({ name: 'x' }))).toBe('PASSPHRASE_REQUIRED')
    const wrong = await Workspace.open(dataDir, { passphrase: 'wrong horse battery' })
    expect(await codeOf(wrong.issueDeviceCertificate({ name: 'x' }))).toBe('WRONG_PASSPHRASE')
    const right = await Workspace.open(dataDir, { passphrase: 'correct horse battery' })
    const certificate = await right.issueDeviceCertificate({ name: 'x' })
    expect(await codeOf(withoutPassphrase.exportDeviceBundle(certificate.id))).toBe('PASSPHRASE_REQUIRED')
    expect((await right.exportDeviceBundle(certificate.id)).length).toBeGreaterThan(500)
  })

  it('refuses passphrase parameters from the index that no Certdesk writes (a tampered index cannot demand gigabytes)', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    await Workspace.initialise(dataDir, { keyType: 'ec-p256', passphrase: 'correct horse battery' })
    const index = JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8'))
    expect(index.vault.kdf).toMatchObject({ name: 'scrypt', N: 2 ** 17, r: 8, p: 1 })
    index.vault.kdf.N = 2 ** 30
    await writeFile(join(dataDir, 'config.json'), JSON.stringify(index))
    const workspace = await Workspace.open(dataDir, { passphrase: 'correct horse battery' })
    expect(await codeOf(workspace.issueDeviceCertificate({ name: 'x' }))).toBe('CORRUPT_STORE')
  })

  it('refuses a vault key file that others can read', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    await chmod(join(dataDir, 'vault.key'), 0o644)
    const workspace = await Workspace.open(dataDir)
    expect(await codeOf(workspace.issueDeviceCertificate({ name: 'x' }))).toBe('INSECURE_KEY_FILE')
  })

  it('a record moved to another record id does not decrypt', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const a = await workspace.issueDeviceCertificate({ name: 'a' })
    const b = await workspace.issueDeviceCertificate({ name: 'b' })
    editStoredEntry(dataDir, 'records', b.id, () => storedRecords(dataDir)[a.id])
    expect(await codeOf(workspace.exportDeviceBundle(b.id))).toBe('CORRUPT_STORE')
  })
})

describe('data folder checks', () => {
  it('tells apart a missing folder, a file, a foreign folder, a damaged and a newer index', async () => {
    const root = await temporaryFolder()
    expect(await codeOf(Workspace.open(join(root, 'missing')))).toBe('NOT_INITIALISED')
    await writeFile(join(root, 'a-file'), 'x')
    expect(await codeOf(Workspace.open(join(root, 'a-file')))).toBe('NOT_A_DATA_FOLDER')
    expect(await codeOf(Workspace.initialise(join(root, 'a-file')))).toBe('NOT_A_DATA_FOLDER')
    await mkdir(join(root, 'foreign'))
    await writeFile(join(root, 'foreign', 'notes.txt'), 'x')
    expect(await codeOf(Workspace.open(join(root, 'foreign')))).toBe('NOT_A_DATA_FOLDER')
    expect(await codeOf(Workspace.initialise(join(root, 'foreign')))).toBe('NOT_A_DATA_FOLDER')

    const dataDir = join(root, 'data')
    await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    expect(await codeOf(Workspace.initialise(dataDir, { keyType: 'ec-p256' }))).toBe('CONFLICT')
    const index = join(dataDir, 'config.json')
    const good = await readFile(index, 'utf8')
    await writeFile(index, good.slice(0, good.length / 2))
    expect(await codeOf(Workspace.open(dataDir))).toBe('CORRUPT_STORE')
    await writeFile(index, JSON.stringify({ hello: 'world' }))
    expect(await codeOf(Workspace.open(dataDir))).toBe('CORRUPT_STORE')
    await writeFile(index, JSON.stringify({ ...JSON.parse(good), schemaVersion: SCHEMA_VERSION + 1 }))
    expect(await codeOf(Workspace.open(dataDir))).toBe('NEWER_STORE')
  })
})

describe('schema migration', () => {
  it('upgrades a schema-1 index in place and keeps a backup of the original', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const certificate = await workspace.issueDeviceCertificate({ name: 'Old' })
    const index = join(dataDir, 'config.json')
    // Rewrite the index the way schema 1 stored it: one file, no version, status, key origin or CRL number.
    const current = readStoredRegistry(dataDir) as unknown as {
      rootCa: Record<string, unknown>
      certificates: object
      schemaVersion?: number
    }
    delete current.schemaVersion
    delete current.rootCa.crlNumber
    delete current.rootCa.origin
    for (const record of Object.values(current.certificates) as Record<string, unknown>[]) {
      delete record.status
      delete record.keyOrigin
      delete record.hasPrivateKey
    }
    writeWholeIndex(dataDir, current)
    const schemaOne = await readFile(index, 'utf8')

    const reopened = await Workspace.open(dataDir)
    expect(reopened.getCertificate(certificate.id).status).toBe('active')
    expect(JSON.parse(await readFile(index, 'utf8')).schemaVersion).toBe(SCHEMA_VERSION)
    const migrated = readStoredRegistry(dataDir)
    expect(migrated.rootCa?.crlNumber).toBe(1)
    expect(migrated.certificates[certificate.id]).toMatchObject({ status: 'active', keyOrigin: 'generated', hasPrivateKey: true })
    expect(await readFile(`${index}.schema-1.bak`, 'utf8')).toBe(schemaOne)
  })
})

describe('two processes writing one folder', () => {
  it("loses neither process's updates", async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const perProcess = 12
    // Each CLI process creates its devices one after another while the other does the same.
    const writer = async (prefix: string) => {
      for (let i = 0; i < perProcess; i++) {
        const result = await runCertdesk(['--data', dataDir, 'device', 'create', '--name', `${prefix}${i}`, '--auth', 'token'])
        expect(result.stderr).toBe('')
      }
    }
    const workspace = await Workspace.open(dataDir)
    // A third writer: this process, through the core, in between.
    const inProcess = (async () => {
      for (let i = 0; i < perProcess; i++) await workspace.issueDeviceCertificate({ name: `cert-${i}` })
    })()
    await Promise.all([writer('a-'), writer('b-'), inProcess])
    const devices = await runCertdeskJson<{ name: string }[]>(['--data', dataDir, 'device', 'list'])
    expect(devices.map((device) => device.name).sort()).toEqual(
      [...Array.from({ length: perProcess }, (_, i) => `a-${i}`), ...Array.from({ length: perProcess }, (_, i) => `b-${i}`)].sort(),
    )
    expect(workspace.listCertificates()).toHaveLength(perProcess)
  })
})
