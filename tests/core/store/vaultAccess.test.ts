import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { DeviceRecord, SealedBox, StoreData, VaultRecord, WholeIndex } from '../../../src-main/core/store/schema'
import { tablesOverWholeIndex } from '../../../src-main/core/store/tables'
import { createVault } from '../../../src-main/core/store/vault'
import { type IndexAccess, VaultAccess } from '../../../src-main/core/store/vaultAccess'
import { codeOf } from '../../helpers/errors'
import { temporaryFolder } from '../../helpers/tools'

/** An index in memory standing in for the store, with one backup and a count of reads. */
function memoryIndex(whole: WholeIndex) {
  const index = {
    data: tablesOverWholeIndex(whole),
    backup: tablesOverWholeIndex(structuredClone(whole)),
    reads: 0,
    read: () => {
      index.reads += 1
      return index.data
    },
    mutate: async (change: (data: StoreData) => void) => change(index.data),
    rewriteBackups: async (change: (data: StoreData) => boolean) => void change(index.backup),
  }
  return index satisfies IndexAccess
}

function device(id: string, deviceKey: SealedBox | string): DeviceRecord {
  return { id, deviceKey } as DeviceRecord
}

function wholeIndex(vault: VaultRecord, devices: Record<string, DeviceRecord> = {}): WholeIndex {
  const inTheClear = Object.values(devices).some((device) => typeof device.deviceKey === 'string')
  // As an upgrade from before sealing leaves the head: flagged, so an open need not look at every device.
  return {
    vault,
    devices,
    certificates: {},
    bindings: [],
    rootCa: null,
    schemaVersion: 1,
    ...(inTheClear ? { unsealedDeviceKeys: true } : {}),
  }
}

/** A folder whose vault key sits in a key file, and an index that says so. */
async function keyFileVault(devices: Record<string, DeviceRecord> = {}) {
  const dataDir = await temporaryFolder()
  const { record, key } = await createVault(dataDir, {})
  const index = memoryIndex(wholeIndex(record, devices))
  return { dataDir, key, index, vault: new VaultAccess(dataDir, {}, index) }
}

describe('vault access', () => {
  it('unlocks once however many ask at once, and only when first needed', async () => {
    const { key, index, vault } = await keyFileVault()
    expect(vault.isUnlocked()).toBe(false)
    const keys = await Promise.all([vault.key(), vault.key(), vault.key()])
    expect(keys.every((k) => k.equals(key))).toBe(true)
    expect(index.reads).toBe(1)
    expect(await vault.state()).toEqual({ protection: 'keyfile', unlocked: true })
    expect(await vault.keyFileHoldsVaultKey()).toBe(true)
  })

  it('seals each key for its own record: moved to another record, it does not open', async () => {
    const { vault } = await keyFileVault()
    const privateKey = await vault.sealPrivateKey('crt_a', 'PRIVATE KEY A')
    expect(await vault.openPrivateKey('crt_a', privateKey)).toBe('PRIVATE KEY A')
    expect(await codeOf(vault.openPrivateKey('crt_b', privateKey))).toBe('CORRUPT_STORE')
    const deviceKey = await vault.sealDeviceKey('dev_a', 'secret-a')
    expect(vault.openDeviceKey(device('dev_a', deviceKey))).toBe('secret-a')
    expect(() => vault.openDeviceKey(device('dev_b', deviceKey))).toThrow(/device key of dev_b cannot be decrypted/)
  })

  it('opens device keys synchronously only once unlocked; a key from before sealing is returned as it is', async () => {
    const { dataDir, key, index } = await keyFileVault()
    const sealed = await new VaultAccess(dataDir, {}, index, key).sealDeviceKey('dev_a', 'secret-a')
    const locked = new VaultAccess(dataDir, {}, index)
    expect(() => locked.openDeviceKey(device('dev_a', sealed))).toThrow(/which is locked/)
    expect(locked.openDeviceKey(device('dev_a', 'in the clear'))).toBe('in the clear')
    await locked.key()
    expect(locked.openDeviceKey(device('dev_a', sealed))).toBe('secret-a')
  })

  it('seals device keys left in the clear, in the index and in its backups', async () => {
    const { index, vault } = await keyFileVault({ dev_a: device('dev_a', 'secret-a') })
    await vault.sealPlaintextDeviceKeys()
    for (const data of [index.data, index.backup]) {
      const record = data.devices.get('dev_a') as DeviceRecord
      expect(record.deviceKey).toHaveProperty('tag')
      expect(vault.openDeviceKey(record)).toBe('secret-a')
    }
    expect(index.data.unsealedDeviceKeys).toBeUndefined()
  })

  it('a passphrase that does not open the vault is not kept; a short new one is refused', async () => {
    const dataDir = await temporaryFolder()
    const { record } = await createVault(dataDir, { passphrase: 'the right passphrase' })
    const index = memoryIndex(wholeIndex(record))
    const vault = new VaultAccess(dataDir, {}, index)
    expect(await vault.state()).toEqual({ protection: 'passphrase', unlocked: false })
    expect(await codeOf(vault.unlockWithPassphrase('the wrong passphrase'))).toBe('WRONG_PASSPHRASE')
    expect(await codeOf(vault.key())).toBe('PASSPHRASE_REQUIRED')
    await vault.unlockWithPassphrase('the right passphrase')
    expect((await vault.state()).unlocked).toBe(true)
    expect(await codeOf(vault.changeProtection({ passphrase: 'short' }))).toBe('INVALID_INPUT')
  })

  it('a new protection is written to the index and its backups, and the key file it replaces goes', async () => {
    const { dataDir, key, index, vault } = await keyFileVault()
    expect(await vault.changeProtection({ passphrase: 'a new passphrase' })).toBe('passphrase')
    expect(index.data.vault.protection).toBe('passphrase')
    expect(index.backup.vault).toEqual(index.data.vault)
    expect(existsSync(join(dataDir, 'vault.key'))).toBe(false)
    const reopened = new VaultAccess(dataDir, { passphrase: 'a new passphrase' }, index)
    expect((await reopened.key()).equals(key)).toBe(true)
  })
})
