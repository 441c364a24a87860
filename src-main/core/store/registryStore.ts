import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { ensurePrivateDirectory, writeFailure, writeFileAtomic } from './files'
import { HOST_TAG, withFolderLock } from './folderLock'
import { AUDIT_FILE, appendAuditEntry, auditContext } from './audit'
import { type AuditActor, type KeyProtectionKind, SCHEMA_VERSION, type StoreData, type VaultState } from './schema'
import { type SealedBox, VAULT_KEY_FILE, type VaultProtection, createVault } from './vault'
import { VaultAccess } from './vaultAccess'
import { describeFolderProblem, initInterrupted, parseIndex } from './folderChecks'
import { INDEX_BACKUP_FILE, INDEX_FILE, INIT_MARKER, RECORDS_DIR, ROOT_CA_RECORD_ID, STAGING_PREFIX } from './layout'
import { checkedCertificatePem, expectedFingerprint, readRecordFile, removeRecordFile, writeRecordFile } from './recordFiles'
import { RecordStaging, leftoversIn } from './recordStaging'

export { INDEX_BACKUP_FILE, INDEX_FILE, RECORDS_DIR, ROOT_CA_RECORD_ID, RecordStaging, leftoversIn }

/** How a store is opened: what unlocks its vault, and who its changes are recorded as. */
export type StoreOptions = VaultProtection & { actor?: AuditActor }

/**
 * Writes the index in electron-store's format (JSON indented with tabs, mode 0600), replaced
 * atomically (temporary file, fsync, rename). Written here rather than through `conf`, which
 * parses the whole index again when it is opened and once more on every write (three parses
 * of a 10 MB index per change, with ours) and takes ~50 ms to load.
 */
function writeIndex(dataDir: string, data: StoreData): Promise<void> {
  return writeFileAtomic(join(dataDir, INDEX_FILE), JSON.stringify(data, undefined, '\t'))
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
 * The keys are sealed and opened by `VaultAccess`; the record files' format is `recordFiles`.
 */
export class RegistryStore {
  private readonly queue = new Queue()
  private readonly vault: VaultAccess
  /** The last index parsed, and the file identity (inode, size, times) it was parsed from. */
  private cached: { identity: string; data: StoreData } | undefined

  private constructor(
    readonly dataDir: string,
    protection: VaultProtection,
    /** Written into the audit log with every change made through this store. */
    readonly actor: AuditActor = 'core',
    createdKey?: Buffer,
  ) {
    this.vault = new VaultAccess(
      dataDir,
      protection,
      {
        read: () => this.read(),
        mutate: (change) => this.mutate(change),
        rewriteBackups: (change) => this.rewriteIndexBackups(change),
      },
      createdKey,
    )
  }

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
    await store.vault.sealPlaintextDeviceKeys()
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
        throw new CertdeskError('CONFLICT', message('rootCa.exists', { dataDir }))
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
      const store = new RegistryStore(dataDir, protection, options.actor, vault.key)
      const data: StoreData = {
        schemaVersion: SCHEMA_VERSION,
        vault: vault.record,
        rootCa: null,
        certificates: {},
        devices: {},
        bindings: [],
      }
      await build(store, data)
      const { seq, hash } = appendAuditEntry(
        dataDir,
        undefined,
        store.actor,
        {
          action: data.rootCa?.origin === 'imported' ? 'ca.import' : 'ca.init',
          target: data.rootCa?.subject ?? '',
          detail: { keyType: data.rootCa?.keyType, protection: data.vault.protection },
        },
        undefined,
      )
      data.audit = { seq, hash }
      await writeIndex(dataDir, data)
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
          await writeIndex(this.dataDir, data)
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

  /** A place to write new records before the index names them; see `RecordStaging`. */
  async stageRecords(): Promise<RecordStaging> {
    const dir = join(this.dataDir, RECORDS_DIR, `${STAGING_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(4).toString('hex')}`)
    await ensurePrivateDirectory(dir)
    return new RecordStaging(this, dir, join(this.dataDir, RECORDS_DIR))
  }

  // The vault, as the front doors and the registry see it (`VaultAccess` does the work).

  /** The unlocked vault key, for the desktop app's broker process only (it cannot reach the OS keychain). */
  async vaultKeyForBrokerProcess(): Promise<Buffer> {
    return this.vault.key()
  }

  isUnlocked(): boolean {
    return this.vault.isUnlocked()
  }

  /** Whether `vault.key` holds the very key the vault opened to (so it is a redundant copy). */
  keyFileHoldsVaultKey(): Promise<boolean> {
    return this.vault.keyFileHoldsVaultKey()
  }

  /** A device key sealed for one device record: moved to another record, it does not open. */
  sealDeviceKey(deviceRecordId: string, deviceKey: string): Promise<SealedBox> {
    return this.vault.sealDeviceKey(deviceRecordId, deviceKey)
  }

  /** A device's key in the clear. Synchronous, so the vault must be unlocked first (`unlock()`). */
  openDeviceKey(device: { id: string; deviceKey: SealedBox | string }): string {
    return this.vault.openDeviceKey(device)
  }

  /** How the keys are protected and whether they are open in this process. */
  vaultState(): Promise<VaultState> {
    return this.vault.state()
  }

  /** The unlock screen's passphrase: kept for this process only if it opens the vault. */
  unlockWithPassphrase(passphrase: string): Promise<void> {
    return this.vault.unlockWithPassphrase(passphrase)
  }

  /** Wraps the vault key anew (passphrase, OS keychain or key file); the keys themselves stay. */
  changeProtection(target: VaultProtection): Promise<KeyProtectionKind> {
    return this.vault.changeProtection(target)
  }

  /** Fails early, before slow work, when the vault cannot be opened. */
  async unlock(): Promise<void> {
    await this.vault.key()
  }

  /**
   * Writes a record's certificate and (sealed) private key as one file. A record without a key
   * (a certificate signed from a device's own CSR) stores `null`.
   */
  async writeRecordMaterial(
    recordId: string,
    material: { certificatePem: string; privateKeyPem: string | null },
    folder = join(this.dataDir, RECORDS_DIR),
  ) {
    const privateKey = material.privateKeyPem === null ? null : await this.vault.sealPrivateKey(recordId, material.privateKeyPem)
    await writeRecordFile(folder, recordId, material.certificatePem, privateKey)
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

  /**
   * The PEM, checked against the fingerprint the index holds for it: a swapped or altered
   * certificate file is reported, never handed to a device or a broker.
   */
  async readCertificatePem(recordId: string): Promise<string> {
    return checkedCertificatePem(this.read(), recordId, (await readRecordFile(this.dataDir, recordId)).certificatePem)
  }

  /** Certificate and decrypted private key, read together. Needs the vault unlocked. */
  async readRecordMaterial(recordId: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
    // The file is read while the vault unlocks (a passphrase costs a scrypt run).
    const [file] = await Promise.all([readRecordFile(this.dataDir, recordId), this.vault.key()])
    if (file.privateKey === null) {
      throw new CertdeskError('NOT_FOUND', message('certificate.noPrivateKey', { recordId }))
    }
    const privateKeyPem = await this.vault.openPrivateKey(recordId, file.privateKey)
    return { certificatePem: checkedCertificatePem(this.read(), recordId, file.certificatePem), privateKeyPem }
  }

  /** Removes a record's file; used after the index no longer names it. */
  async removeRecordFiles(recordId: string): Promise<void> {
    await removeRecordFile(this.dataDir, recordId)
  }
}
