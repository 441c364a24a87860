import { X509Certificate, randomBytes } from 'node:crypto'
import { existsSync, linkSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { copyFile, readFile, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import Conf from 'conf'
import { CertdeskError } from '../errors'
import { ensurePrivateDirectory, writeFailure, writeFileAtomic } from './files'
import { HOST_TAG, withFolderLock } from './folderLock'
import { AUDIT_FILE, appendAuditEntry, auditContext } from './audit'
import { type AuditActor, type KeyProtectionKind, SCHEMA_VERSION, type StoreData, type VaultRecord, type VaultState } from './schema'
import { type SealedBox, VAULT_KEY_FILE, type VaultProtection, createVault, open, protectVaultKey, seal, unlockVault } from './vault'
import { describeFolderProblem, initInterrupted, parseIndex } from './folderChecks'
import { INDEX_BACKUP_FILE, INDEX_FILE, INIT_MARKER, RECORDS_DIR, ROOT_CA_RECORD_ID, STAGING_PREFIX } from './layout'
import { RecordStaging, leftoversIn } from './recordStaging'

export { INDEX_BACKUP_FILE, INDEX_FILE, RECORDS_DIR, ROOT_CA_RECORD_ID, RecordStaging, leftoversIn }

/** A device key's associated data: sealed for one device record, it opens for no other. */
const deviceKeyBinding = (deviceRecordId: string) => `device-key:${deviceRecordId}`

function sealDeviceKeyWith(vaultKey: Buffer, deviceRecordId: string, deviceKey: string): SealedBox {
  return seal(vaultKey, Buffer.from(deviceKey, 'utf8'), deviceKeyBinding(deviceRecordId))
}

/** How a store is opened: what unlocks its vault, and who its changes are recorded as. */
export type StoreOptions = VaultProtection & { actor?: AuditActor }

interface RecordFile {
  certificatePem: string
  privateKey: (SealedBox & { format: string }) | null
}

type IndexConf = Conf<Record<string, unknown>>

function openIndex(dataDir: string): IndexConf {
  return new Conf<Record<string, unknown>>({
    cwd: dataDir,
    configName: 'config',
    configFileMode: 0o600,
    accessPropertiesByDotNotation: false,
    clearInvalidConfig: false,
  })
}

/** Serialises async work within this process; the file lock does the same across processes. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work)
    this.tail = result.catch(() => undefined)
    return result
  }
}

/**
 * The on-disk registry of one data folder: the JSON index, certificate PEMs and encrypted keys.
 * Every read goes to disk, because another process (the CLI beside the app) may have written.
 */
export class RegistryStore {
  private readonly queue = new Queue()
  private vaultKey: Promise<Buffer> | undefined
  /** The vault key once unlocked: lets synchronous readers (the broker's decisions) open sealed device keys. */
  private unlockedKey: Buffer | undefined
  /** The last index parsed, and the file identity (inode, size, times) it was parsed from. */
  private cached: { identity: string; data: StoreData } | undefined

  /** `conf`'s handle on the index, made on the first write (it fails raw on a folder that is not one). */
  private indexFile: IndexConf | undefined

  private get index(): IndexConf {
    this.indexFile ??= openIndex(this.dataDir)
    return this.indexFile
  }

  private constructor(
    readonly dataDir: string,
    /** What unlocks the vault here: a passphrase, the OS keychain (the app), or neither (key file). */
    private protection: VaultProtection,
    /** Written into the audit log with every change made through this store. */
    readonly actor: AuditActor = 'core',
  ) {}

  static async open(dataDir: string, options: StoreOptions = {}): Promise<RegistryStore> {
    const { actor, ...protection } = options
    const store = new RegistryStore(dataDir, protection, actor)
    // Parsed (and schema-checked) once here; later reads reuse it until the file changes.
    const { migratedFrom } = store.readWithMigrationInfo()
    // An init killed after writing its index (before removing its marker) did finish: the marker
    // must not later make a lost index look like an unfinished init.
    rmSync(join(dataDir, INIT_MARKER), { force: true })
    if (leftoversIn(dataDir).length > 0) await withFolderLock(dataDir, async () => store.sweepLeftovers())
    if (migratedFrom !== undefined) await store.upgrade(migratedFrom)
    await store.sealPlaintextDeviceKeys()
    return store
  }

  /**
   * Creates a data folder. `build` runs with the new vault unlocked and writes its files through
   * the store; the index is written last, so an interrupted init leaves no half-made registry.
   */
  static async initialise(
    dataDir: string,
    options: StoreOptions,
    build: (store: RegistryStore, data: StoreData) => Promise<void>,
  ): Promise<RegistryStore> {
    try {
      const stats = statSync(dataDir)
      if (!stats.isDirectory()) throw describeFolderProblem(dataDir)
    } catch (error) {
      if (error instanceof CertdeskError) throw error
    }
    await ensurePrivateDirectory(dataDir)
    return withFolderLock(dataDir, async () => {
      if (existsSync(join(dataDir, INDEX_FILE))) {
        throw new CertdeskError('CONFLICT', `${dataDir} already has a root CA; Certdesk keeps one root CA per data folder.`)
      }
      // Never a new vault over keys that exist: a lost index is restored, not replaced.
      const problem = describeFolderProblem(dataDir)
      if (problem.code !== 'NOT_INITIALISED') throw problem
      if (initInterrupted(dataDir)) {
        rmSync(join(dataDir, VAULT_KEY_FILE), { force: true })
        rmSync(join(dataDir, RECORDS_DIR), { recursive: true, force: true })
        rmSync(join(dataDir, AUDIT_FILE), { force: true })
      } else if (existsSync(join(dataDir, AUDIT_FILE))) {
        // The log of a registry that is gone: kept aside, so the new CA's log starts its own chain.
        renameSync(join(dataDir, AUDIT_FILE), join(dataDir, `${AUDIT_FILE}.previous`))
      }
      writeFileSync(join(dataDir, INIT_MARKER), `${HOST_TAG}:${process.pid}`, { mode: 0o600 })
      const protection = { passphrase: options.passphrase, keychain: options.keychain }
      const vault = await createVault(dataDir, protection)
      const store = new RegistryStore(dataDir, protection, options.actor)
      store.vaultKey = Promise.resolve(vault.key)
      store.unlockedKey = vault.key
      const data: StoreData = {
        schemaVersion: SCHEMA_VERSION,
        vault: vault.record,
        rootCa: null,
        certificates: {},
        devices: {},
        bindings: [],
      }
      await build(store, data)
      const { seq, hash } = appendAuditEntry(dataDir, undefined, store.actor, { action: 'ca.init', target: data.rootCa?.subject ?? '', detail: { keyType: data.rootCa?.keyType, protection: data.vault.protection } }, undefined)
      data.audit = { seq, hash }
      store.index.store = data as unknown as Record<string, unknown>
      unlinkSync(join(dataDir, INIT_MARKER))
      return store
    })
  }

  /** Writes a migrated index back, keeping the file as it was so a migration can be undone by hand. */
  private async upgrade(fromSchema: number): Promise<void> {
    const index = join(this.dataDir, INDEX_FILE)
    await copyFile(index, `${index}.schema-${fromSchema}.bak`)
    await this.mutate(() => undefined)
  }

  /**
   * Parses the index from disk. The file's identity is taken before reading, so a write racing
   * the read only makes the next read parse again; a migrated index is not cached until it has
   * been written back at the current schema.
   */
  private readWithMigrationInfo(): StoreData & { migratedFrom?: number } {
    const identity = this.indexIdentity()
    let text: string
    try {
      text = readFileSync(join(this.dataDir, INDEX_FILE), 'utf8')
    } catch {
      throw describeFolderProblem(this.dataDir)
    }
    const parsed = parseIndex(this.dataDir, text)
    if (identity !== undefined && parsed.migratedFrom === undefined) this.cached = { identity, data: parsed }
    return parsed
  }

  /**
   * Identifies the index file's current version. Every write replaces the file by rename, so a
   * change shows as a new inode and new times; nanosecond times make a false match implausible.
   */
  private indexIdentity(): string | undefined {
    try {
      const stats = statSync(join(this.dataDir, INDEX_FILE), { bigint: true })
      return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`
    } catch {
      return undefined
    }
  }

  /**
   * The index at the current schema, as it is on disk now. Parsed again only when the file has
   * changed (by this process or another), so reads stay cheap at thousands of certificates.
   * The result is shared: read it, do not change it (changes go through `mutate`).
   */
  read(): StoreData {
    const identity = this.indexIdentity()
    if (identity !== undefined && this.cached?.identity === identity) return this.cached.data
    const { migratedFrom: _migratedFrom, ...data } = this.readWithMigrationInfo()
    return data
  }

  /**
   * Read, change and write the index as one step against every other writer of this folder.
   * `change` is synchronous on purpose: slow work (key generation, signing) happens before,
   * outside the lock.
   */
  mutate<T>(change: (data: StoreData) => T, options: { staged?: RecordStaging } = {}): Promise<T> {
    return this.queue.run(() =>
      withFolderLock(this.dataDir, async () => {
        // A private copy: if `change` throws halfway, the shared cached index is untouched.
        const data = structuredClone(this.read())
        const result = change(data)
        // The entry is flushed before the index that records it as the head: a crash in between
        // leaves one entry past the head, never a change without its entry.
        const event = auditContext.getStore()
        const entry = event === undefined ? undefined : appendAuditEntry(this.dataDir, data.audit, this.actor, event, result)
        if (entry) data.audit = { seq: entry.seq, hash: entry.hash }
        this.keepPreviousIndex()
        try {
          this.index.store = data as unknown as Record<string, unknown>
        } catch (error) {
          entry?.undo()
          throw writeFailure(error, join(this.dataDir, INDEX_FILE))
        }
        // Index first, then the files it now names: killed in between, the next open finishes the
        // move (sweepLeftovers), and a reader in between finds them in staging (readRecordFile).
        options.staged?.moveIntoPlace()
        const identity = this.indexIdentity()
        if (identity !== undefined) this.cached = { identity, data }
        return result
      }),
    )
  }

  /**
   * Keeps the index being replaced as `config.json.bak`. Writes replace the index by rename, so a
   * hard link to the current file costs two system calls and no copy.
   */
  private keepPreviousIndex(): void {
    const index = join(this.dataDir, INDEX_FILE)
    const backup = join(this.dataDir, INDEX_BACKUP_FILE)
    try {
      rmSync(backup, { force: true })
      linkSync(index, backup)
    } catch {
      // A file system without hard links: a copy will do.
      try {
        writeFileSync(backup, readFileSync(index), { mode: 0o600 })
      } catch {
        // No backup this time; the write itself must still go ahead.
      }
    }
  }

  /** A place to write new records before the index names them; see `RecordStaging`. */
  async stageRecords(): Promise<RecordStaging> {
    const dir = join(this.dataDir, RECORDS_DIR, `${STAGING_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(4).toString('hex')}`)
    await ensurePrivateDirectory(dir)
    return new RecordStaging(this, dir, join(this.dataDir, RECORDS_DIR))
  }

  /** The vault key, unlocked once per store with the passphrase (if any) given at open. */
  private key(): Promise<Buffer> {
    // One unlock (one scrypt run) even when many writers ask at once; a failed one can be retried.
    this.vaultKey ??= unlockVault(this.dataDir, this.read().vault, this.protection).then(
      (key) => (this.unlockedKey = key),
      (error: unknown) => {
        this.vaultKey = undefined
        throw error
      },
    )
    return this.vaultKey
  }

  /** The unlocked vault key, for the desktop app's broker process only (it cannot reach the OS keychain). */
  async vaultKeyForBrokerProcess(): Promise<Buffer> {
    return this.key()
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

  /** A device key sealed for one device record: moved to another record, it does not open. */
  async sealDeviceKey(deviceRecordId: string, deviceKey: string): Promise<SealedBox> {
    return sealDeviceKeyWith(await this.key(), deviceRecordId, deviceKey)
  }

  /** A device's key in the clear. Synchronous, so the vault must be unlocked first (`unlock()`). */
  openDeviceKey(device: { id: string; deviceKey: SealedBox | string }): string {
    if (typeof device.deviceKey === 'string') return device.deviceKey
    if (this.unlockedKey === undefined) {
      throw new CertdeskError('PASSPHRASE_REQUIRED', 'The device keys are sealed under the vault, which is locked.')
    }
    try {
      return open(this.unlockedKey, device.deviceKey, deviceKeyBinding(device.id)).toString('utf8')
    } catch (error) {
      throw new CertdeskError('CORRUPT_STORE', `The device key of ${device.id} cannot be decrypted: the index is damaged.`, { cause: error })
    }
  }

  /**
   * Seals device keys that a folder from before sealing still holds in the clear, in the index
   * and in its backups, when the vault can be opened; otherwise they stay until it can.
   */
  private async sealPlaintextDeviceKeys(): Promise<void> {
    const inTheClear = (data: StoreData) => Object.values(data.devices).some((device) => typeof device.deviceKey === 'string')
    if (!inTheClear(this.read())) return
    try {
      await this.key()
    } catch {
      return
    }
    const key = this.unlockedKey as Buffer
    const sealAll = (data: StoreData) => {
      for (const device of Object.values(data.devices ?? {})) {
        if (typeof device.deviceKey === 'string') device.deviceKey = sealDeviceKeyWith(key, device.id, device.deviceKey)
      }
    }
    await this.mutate(sealAll)
    // Backups (the previous index, migration copies) are indexes too: no key stays readable there.
    await this.rewriteIndexBackups((data) => {
      if (!inTheClear(data)) return false
      sealAll(data)
      return true
    })
  }

  /**
   * Applies `change` to every index backup (`config.json.bak`, `*.schema-N.bak`) and writes back
   * those it changed. A backup is restored as the index one day, so what must not survive in the
   * index (a key in the clear, an old wrapping of the vault key) must not survive there either.
   */
  private async rewriteIndexBackups(change: (data: StoreData) => boolean): Promise<void> {
    await withFolderLock(this.dataDir, async () => {
      for (const entry of readdirSync(this.dataDir).filter((name) => name.startsWith(`${INDEX_FILE}.`) && name.endsWith('.bak'))) {
        const path = join(this.dataDir, entry)
        try {
          const data = JSON.parse(readFileSync(path, 'utf8')) as StoreData
          if (change(data)) await writeFileAtomic(path, JSON.stringify(data, null, '\t'))
        } catch {
          // A backup that is not an index is left as it is.
        }
      }
    })
  }

  /**
   * How the keys are protected and whether they are open in this process. A key file or the OS
   * keychain opens without asking; a passphrase waits for `unlockWithPassphrase`.
   */
  async vaultState(): Promise<VaultState> {
    const vault = this.read().vault
    const canTry = vault.protection !== 'passphrase' || this.protection.passphrase !== undefined
    if (this.unlockedKey === undefined && canTry) await this.key().catch(() => undefined)
    return { protection: vault.protection, ...(vault.protection === 'os-keychain' ? { keychain: vault.keychain } : {}), unlocked: this.unlockedKey !== undefined }
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
      throw new CertdeskError('INVALID_INPUT', 'The passphrase is too short; use at least 8 characters.')
    }
    const key = await this.key()
    const previous = this.read().vault.protection
    const keyFile = join(this.dataDir, VAULT_KEY_FILE)
    let record: VaultRecord | undefined
    try {
      record = await protectVaultKey(this.dataDir, key, target)
      const wrapped = record
      await auditContext.run({ action: 'vault.protect', target: wrapped.protection }, () =>
        this.mutate((data) => {
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
    await this.rewriteIndexBackups((data) => {
      data.vault = wrapped
      return true
    })
    this.protection = { ...this.protection, ...target }
    if (wrapped.protection !== 'keyfile') rmSync(keyFile, { force: true })
    return wrapped.protection
  }

  /** Fails early, before slow work, when the vault cannot be opened. */
  async unlock(): Promise<void> {
    await this.key()
  }

  /**
   * Writes a record's certificate and (encrypted) private key as one file: one atomic write and
   * one flush per certificate, and the two can never get out of step. A record without a key
   * (a certificate signed from a device's own CSR) stores `null`.
   */
  async writeRecordMaterial(
    recordId: string,
    material: { certificatePem: string; privateKeyPem: string | null },
    folder = join(this.dataDir, RECORDS_DIR),
  ) {
    const privateKey =
      material.privateKeyPem === null
        ? null
        : { format: 'aes-256-gcm', ...seal(await this.key(), Buffer.from(material.privateKeyPem, 'utf8'), `private-key:${recordId}`) }
    await ensurePrivateDirectory(folder)
    const file: RecordFile = { certificatePem: material.certificatePem, privateKey }
    await writeFileAtomic(join(folder, `${recordId}.json`), JSON.stringify(file) + '\n')
  }

  /**
   * Finishes what killed processes left: a staging folder's records that the index names are
   * moved into place (their commit got as far as the index), the rest are deleted with their
   * folder, and temporary files go. Call with the folder lock held.
   */
  sweepLeftovers(): string[] {
    const data = this.read()
    const swept = leftoversIn(this.dataDir)
    for (const path of swept) {
      if (basename(path).startsWith(STAGING_PREFIX)) {
        for (const name of readdirSync(path)) {
          const recordId = name.replace(/\.json$/, '')
          if (name.endsWith('.json') && expectedFingerprint(data, recordId) !== undefined) {
            renameSync(join(path, name), join(this.dataDir, RECORDS_DIR, name))
          }
        }
      }
      rmSync(path, { recursive: true, force: true })
    }
    return swept
  }

  /** A record's file, or (in the instant between a commit's index write and its move) its staged copy. */
  private async readRecordText(recordId: string): Promise<string> {
    try {
      return await readFile(this.recordPath(recordId), 'utf8')
    } catch (error) {
      const recordsDir = join(this.dataDir, RECORDS_DIR)
      for (const entry of readdirSync(recordsDir).filter((name) => name.startsWith(STAGING_PREFIX))) {
        const staged = await readFile(join(recordsDir, entry, `${recordId}.json`), 'utf8').catch(() => undefined)
        if (staged !== undefined) return staged
      }
      throw error
    }
  }

  private async readRecordFile(recordId: string): Promise<RecordFile> {
    try {
      const file = JSON.parse(await this.readRecordText(recordId)) as RecordFile
      if (typeof file.certificatePem !== 'string') throw new Error('no certificate')
      return file
    } catch (error) {
      throw new CertdeskError('CORRUPT_STORE', `The files of ${recordId} are missing or damaged.`, { cause: error })
    }
  }

  /**
   * The PEM, checked against the fingerprint the index holds for it: a swapped or altered
   * certificate file is reported, never handed to a device or a broker.
   */
  async readCertificatePem(recordId: string): Promise<string> {
    return this.checkedPem(recordId, (await this.readRecordFile(recordId)).certificatePem)
  }

  private checkedPem(recordId: string, pem: string): string {
    const expected = expectedFingerprint(this.read(), recordId)
    let actual: string | undefined
    try {
      actual = new X509Certificate(pem).fingerprint256
    } catch {
      actual = undefined
    }
    if (actual === undefined || (expected !== undefined && actual !== expected)) {
      throw new CertdeskError(
        'CORRUPT_STORE',
        `The certificate file of ${recordId} does not match the registry (its fingerprint differs); run "certdesk doctor".`,
      )
    }
    return pem
  }

  /** Certificate and decrypted private key, read together. Needs the vault unlocked. */
  async readRecordMaterial(recordId: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
    const [file, key] = await Promise.all([this.readRecordFile(recordId), this.key()])
    if (file.privateKey === null) {
      throw new CertdeskError('NOT_FOUND', `Certdesk holds no private key for ${recordId}: it was signed from the device's own request.`)
    }
    try {
      const privateKeyPem = open(key, file.privateKey, `private-key:${recordId}`).toString('utf8')
      return { certificatePem: this.checkedPem(recordId, file.certificatePem), privateKeyPem }
    } catch (error) {
      if (error instanceof CertdeskError) throw error
      throw new CertdeskError('CORRUPT_STORE', `The private key of ${recordId} cannot be decrypted: its file is damaged.`)
    }
  }


  /** Removes a record's file; used after the index no longer names it. */
  async removeRecordFiles(recordId: string): Promise<void> {
    await rm(this.recordPath(recordId), { force: true })
  }

  private recordPath(recordId: string): string {
    return join(this.dataDir, RECORDS_DIR, `${recordId}.json`)
  }
}

/** The fingerprint the index holds for a record file, or undefined for one it does not name. */
export function expectedFingerprint(data: StoreData, recordId: string): string | undefined {
  if (recordId === ROOT_CA_RECORD_ID) return data.rootCa?.fingerprint256
  const server = data.broker?.serverCertificate
  if (server?.recordId === recordId) return server.fingerprint256
  return Object.hasOwn(data.certificates, recordId) ? data.certificates[recordId].fingerprint256 : undefined
}

