import { rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { auditContext } from './audit'
import type { KeyProtectionKind, StoreData, VaultRecord, VaultState } from './schema'
import { type SealedBox, VAULT_KEY_FILE, type VaultProtection, open, protectVaultKey, seal, unlockVault } from './vault'

/** What vault access needs of its store: the index, read and changed under the lock, and its backups. */
export interface IndexAccess {
  read(): StoreData
  mutate(change: (data: StoreData) => void): Promise<unknown>
  /** Applies `change` to every index backup and writes back those it changed (true). */
  rewriteBackups(change: (data: StoreData) => boolean): Promise<void>
}

// Associated data binds each sealed key to its record: copied onto another record, it does not open.
const deviceKeyBinding = (deviceRecordId: string) => `device-key:${deviceRecordId}`
const privateKeyBinding = (recordId: string) => `private-key:${recordId}`

function sealDeviceKeyWith(vaultKey: Buffer, deviceRecordId: string, deviceKey: string): SealedBox {
  return seal(vaultKey, Buffer.from(deviceKey, 'utf8'), deviceKeyBinding(deviceRecordId))
}

/**
 * The store's use of its vault. `vault.ts` wraps and unwraps the vault key itself; this holds the
 * unwrapped key for one store (unlocked once, on first need), seals and opens the keys that record
 * files and the index hold with it, and re-wraps it when the protection changes.
 */
export class VaultAccess {
  private vaultKey: Promise<Buffer> | undefined
  /** The vault key once unlocked: lets synchronous readers (the broker's decisions) open sealed device keys. */
  private unlockedKey: Buffer | undefined

  constructor(
    private readonly dataDir: string,
    /** What unlocks the vault here: a passphrase, the OS keychain (the app), or neither (key file). */
    private protection: VaultProtection,
    private readonly index: IndexAccess,
    /** The key of a vault just created: nothing to unlock. */
    createdKey?: Buffer,
  ) {
    if (createdKey !== undefined) {
      this.vaultKey = Promise.resolve(createdKey)
      this.unlockedKey = createdKey
    }
  }

  /** The vault key, unlocked once per store with the passphrase (if any) given at open. */
  key(): Promise<Buffer> {
    // One unlock (one scrypt run) even when many writers ask at once; a failed one can be retried.
    this.vaultKey ??= unlockVault(this.dataDir, this.index.read().vault, this.protection).then(
      (key) => (this.unlockedKey = key),
      (error: unknown) => {
        this.vaultKey = undefined
        throw error
      },
    )
    return this.vaultKey
  }

  isUnlocked(): boolean {
    return this.unlockedKey !== undefined
  }

  /** Whether `vault.key` holds the very key the vault opened to (so it is a redundant copy). */
  async keyFileHoldsVaultKey(): Promise<boolean> {
    if (this.unlockedKey === undefined) return false
    try {
      return Buffer.from((await readFile(join(this.dataDir, VAULT_KEY_FILE), 'utf8')).trim(), 'base64').equals(this.unlockedKey)
    } catch {
      return false
    }
  }

  /**
   * How the keys are protected and whether they are open in this process. A key file or the OS
   * keychain opens without asking; a passphrase waits for `unlockWithPassphrase`.
   */
  async state(): Promise<VaultState> {
    const vault = this.index.read().vault
    const canTry = vault.protection !== 'passphrase' || this.protection.passphrase !== undefined
    if (this.unlockedKey === undefined && canTry) await this.key().catch(() => undefined)
    return {
      protection: vault.protection,
      ...(vault.protection === 'os-keychain' ? { keychain: vault.keychain } : {}),
      unlocked: this.unlockedKey !== undefined,
    }
  }

  /** The unlock screen's passphrase: kept for this process only if it opens the vault. */
  async unlockWithPassphrase(passphrase: string): Promise<void> {
    const previous = this.protection
    this.protection = { ...previous, passphrase }
    this.vaultKey = undefined
    try {
      await this.key()
    } catch (error) {
      this.protection = previous
      throw error
    }
  }

  /**
   * Wraps the vault key anew: a passphrase, the OS keychain, or a key file. The keys themselves
   * do not change, so nothing else is rewritten; a key file no longer used is deleted.
   */
  async changeProtection(target: VaultProtection): Promise<KeyProtectionKind> {
    if (target.passphrase !== undefined && target.passphrase.length < 8) {
      throw new CertdeskError('INVALID_INPUT', message('validation.passphraseTooShort'))
    }
    const key = await this.key()
    const previous = this.index.read().vault.protection
    const keyFile = join(this.dataDir, VAULT_KEY_FILE)
    let record: VaultRecord | undefined
    try {
      record = await protectVaultKey(this.dataDir, key, target)
      const wrapped = record
      await auditContext.run({ action: 'vault.protect', target: wrapped.protection }, () =>
        this.index.mutate((data) => {
          data.vault = wrapped
        }),
      )
    } catch (error) {
      // The index still says the old protection: a key file written for the new one must not stay.
      if (record?.protection === 'keyfile' && previous !== 'keyfile') rmSync(keyFile, { force: true })
      throw error
    }
    const wrapped = record
    // The backups carry the old wrapping: restored, it would reopen the vault the old way (an
    // old passphrase), or not at all (a key file about to be deleted).
    await this.index.rewriteBackups((data) => {
      data.vault = wrapped
      return true
    })
    this.protection = { ...this.protection, ...target }
    if (wrapped.protection !== 'keyfile') rmSync(keyFile, { force: true })
    return wrapped.protection
  }

  /** A record's private key, sealed for that record alone (it goes into the record's file). */
  async sealPrivateKey(recordId: string, privateKeyPem: string): Promise<SealedBox> {
    return seal(await this.key(), Buffer.from(privateKeyPem, 'utf8'), privateKeyBinding(recordId))
  }

  async openPrivateKey(recordId: string, sealed: SealedBox): Promise<string> {
    const key = await this.key()
    try {
      return open(key, sealed, privateKeyBinding(recordId)).toString('utf8')
    } catch {
      throw new CertdeskError('CORRUPT_STORE', message('vault.privateKeyDamaged', { recordId }))
    }
  }

  /** A device key sealed for one device record: moved to another record, it does not open. */
  async sealDeviceKey(deviceRecordId: string, deviceKey: string): Promise<SealedBox> {
    return sealDeviceKeyWith(await this.key(), deviceRecordId, deviceKey)
  }

  /** A device's key in the clear. Synchronous, so the vault must be unlocked first (`key()`). */
  openDeviceKey(device: { id: string; deviceKey: SealedBox | string }): string {
    if (typeof device.deviceKey === 'string') return device.deviceKey
    if (this.unlockedKey === undefined) {
      throw new CertdeskError('PASSPHRASE_REQUIRED', message('vault.deviceKeysLocked'))
    }
    try {
      return open(this.unlockedKey, device.deviceKey, deviceKeyBinding(device.id)).toString('utf8')
    } catch (error) {
      throw new CertdeskError('CORRUPT_STORE', message('vault.deviceKeyDamaged', { recordId: device.id }), { cause: error })
    }
  }

  /**
   * Seals device keys that a folder from before sealing still holds in the clear, in the index
   * and in its backups, when the vault can be opened; otherwise they stay until it can.
   */
  async sealPlaintextDeviceKeys(): Promise<void> {
    const inTheClear = (data: StoreData) => data.devices.all().some((device) => typeof device.deviceKey === 'string')
    // Only an upgrade from a folder that had them sets the flag: no open reads every device for this.
    if (this.index.read().unsealedDeviceKeys !== true) return
    try {
      await this.key()
    } catch {
      return
    }
    const key = this.unlockedKey as Buffer
    const sealAll = (data: StoreData) => {
      for (const device of data.devices.all()) {
        if (typeof device.deviceKey === 'string') device.deviceKey = sealDeviceKeyWith(key, device.id, device.deviceKey)
      }
      delete data.unsealedDeviceKeys
    }
    await this.index.mutate(sealAll)
    // Backups (the previous index, migration copies) are indexes too: no key stays readable there.
    await this.index.rewriteBackups((data) => {
      if (!inTheClear(data)) return false
      sealAll(data)
      return true
    })
  }
}
