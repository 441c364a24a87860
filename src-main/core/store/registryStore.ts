import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { ensurePrivateDirectory, writeFailure, writeFileAtomic } from './files'
import { HOST_TAG, withFolderLock } from './folderLock'
import { AUDIT_FILE, appendAuditEntry, auditContext } from './audit'
import {
  type AuditActor,
  type HeadFile,
  type KeyProtectionKind,
  SCHEMA_VERSION,
  type StoreData,
  type VaultState,
  type WholeIndex,
} from './schema'
import { headOf, tablesOverWholeIndex } from './tables'
import {
  BucketCache,
  TABLE_NAMES,
  type TableMap,
  TableFiles,
  fileTables,
  fillTables,
  namedTableFiles,
  tableFilesOnDisk,
  lookupKeyProblems,
  namedTableFileProblems,
  rebuildLookupKeys,
  tableMapFromDisk,
} from './tableFiles'
import { type SealedBox, VAULT_KEY_FILE, type VaultProtection, createVault } from './vault'
import { VaultAccess } from './vaultAccess'
import { type ParsedIndex, describeFolderProblem, initInterrupted, parseIndex } from './folderChecks'
import {
  INDEX_BACKUP_FILE,
  INDEX_FILE,
  INIT_MARKER,
  LEGACY_RECORDS_BACKUP,
  RECORDS_DIR,
  ROOT_CA_RECORD_ID,
  STAGING_PREFIX,
  TABLES_DIR,
} from './layout'
import {
  type RecordFile,
  checkedCertificatePem,
  expectedFingerprint,
  namedRecordIds,
  readLegacyRecordFile,
  recordFileOf,
} from './recordFiles'
import { type RecordMaterial, RecordStaging, leftoversIn } from './recordStaging'

export { INDEX_BACKUP_FILE, INDEX_FILE, ROOT_CA_RECORD_ID, RecordStaging, leftoversIn }

/** How a store is opened: what unlocks its vault, and who its changes are recorded as. */
export type StoreOptions = VaultProtection & { actor?: AuditActor }

/**
 * Writes the head in electron-store's format (JSON indented with tabs, mode 0600), replaced
 * atomically (temporary file, fsync, rename): the commit point of every change.
 */
function writeHead(dataDir: string, head: HeadFile): Promise<void> {
  return writeFileAtomic(join(dataDir, INDEX_FILE), JSON.stringify(head, undefined, '\t'))
}

function ensureTableFolders(dataDir: string): void {
  for (const table of TABLE_NAMES) mkdirSync(join(dataDir, TABLES_DIR, table), { recursive: true, mode: 0o700 })
}

/**
 * Table files the folder's head does not name: a commit's new files when it was killed before its
 * head, or its old ones when killed after. Only a writer holding the lock makes new ones, so under
 * the lock every unnamed file is a leftover.
 */
export function unnamedTableFilesIn(dataDir: string, map?: TableMap): string[] {
  if (map === undefined) {
    let parsed: ParsedIndex
    try {
      parsed = parseIndex(dataDir, readFileSync(join(dataDir, INDEX_FILE), 'utf8'))
    } catch {
      return []
    }
    if (parsed.head === undefined) return []
    map = parsed.head.tables
  }
  const named = namedTableFiles(dataDir, map)
  return tableFilesOnDisk(dataDir)
    .map((file) => file.path)
    .filter((path) => !named.has(path))
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
  private cached: { identity: string; head: HeadFile; data: StoreData } | undefined
  /** Parsed table files, shared by every read of this process. */
  private readonly buckets = new BucketCache()
  /** The files behind each read view, for the records (which the core's tables do not show). */
  private readonly viewFiles = new WeakMap<StoreData, TableFiles>()

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
    const current = store.current()
    // An init killed after writing its index (before removing its marker) did finish: the marker
    // must not later make a lost index look like an unfinished init.
    rmSync(join(dataDir, INIT_MARKER), { force: true })
    // Leftovers first: a schema-2 folder's staged records finish their move before the upgrade reads them.
    if (leftoversIn(dataDir).length > 0 || store.unnamedTableFiles().length > 0) {
      await withFolderLock(dataDir, async () => store.sweepLeftovers())
    }
    if (current.whole !== undefined) await withFolderLock(dataDir, async () => store.upgradeInLock())
    // An upgrade killed after its head, before it set the old records folder aside.
    else if (existsSync(join(dataDir, RECORDS_DIR))) await withFolderLock(dataDir, async () => store.setLegacyRecordsAside())
    await store.vault.sealPlaintextDeviceKeys()
    return store
  }

  /**
   * Creates a data folder. `build` runs with the new vault unlocked and stages its records (the
   * root CA's); they are written with the tables, the head last, so an interrupted init leaves
   * no half-made registry.
   */
  static async initialise(
    dataDir: string,
    options: StoreOptions,
    build: (data: StoreData, staging: RecordStaging) => Promise<void>,
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
        rmSync(join(dataDir, TABLES_DIR), { recursive: true, force: true })
        rmSync(join(dataDir, AUDIT_FILE), { force: true })
      } else if (existsSync(join(dataDir, AUDIT_FILE))) {
        // The log of a registry that is gone: kept aside, so the new CA's log starts its own chain.
        renameSync(join(dataDir, AUDIT_FILE), join(dataDir, `${AUDIT_FILE}.previous`))
      }
      writeFileSync(join(dataDir, INIT_MARKER), `${HOST_TAG}:${process.pid}`, { mode: 0o600 })
      const protection = { passphrase: options.passphrase, keychain: options.keychain }
      const vault = await createVault(dataDir, protection)
      const store = new RegistryStore(dataDir, protection, options.actor, vault.key)
      const whole: WholeIndex = {
        schemaVersion: SCHEMA_VERSION,
        vault: vault.record,
        rootCa: null,
        certificates: {},
        devices: {},
        bindings: [],
      }
      const data = tablesOverWholeIndex(whole)
      const staging = await store.stageRecords()
      await build(data, staging)
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
      await store.writeTablesFrom({ ...whole, ...headOf(data) }, 1, staging.changes().written)
      unlinkSync(join(dataDir, INIT_MARKER))
      return store
    })
  }

  /**
   * Puts a backup in place of a lost `config.json` (under the lock). A schema-3 head's own record
   * of the table files is as old as the backup, while the files are current: it gets the newest
   * file of every bucket on disk instead, so only its small fields are as old as the backup.
   */
  static async restoreIndex(dataDir: string, backupFile: string): Promise<'tables' | 'backup'> {
    return withFolderLock(dataDir, async () => {
      const text = readFileSync(join(dataDir, backupFile), 'utf8')
      const parsed = parseIndex(dataDir, text)
      if (parsed.head === undefined) {
        await writeFileAtomic(join(dataDir, INDEX_FILE), text)
        return 'backup'
      }
      await writeFileAtomic(
        join(dataDir, INDEX_FILE),
        JSON.stringify({ ...parsed.head, tables: tableMapFromDisk(dataDir, parsed.head.tables.generation + 1) }, undefined, '\t'),
      )
      return 'tables'
    })
  }

  /**
   * Upgrades a whole index (schema 1 or 2) to the tables, keeping the file as it was so the upgrade
   * can be undone by hand. Under the lock; again if another process upgraded first, nothing to do.
   */
  private async upgradeInLock(): Promise<void> {
    const parsed = this.parseIndexFile()
    if (parsed.whole === undefined) return
    const index = join(this.dataDir, INDEX_FILE)
    await copyFile(index, `${index}.schema-${parsed.fromSchema}.bak`)
    // Files of an earlier head (a schema-2 backup restored over a schema-3 folder) stay apart.
    // Schema 2 kept a file per record; they move into the records table (the folder is kept aside).
    // A schema-2 backup restored over schema-3 tables finds its records there instead.
    const tables = tableFilesOnDisk(this.dataDir)
    const existingMap = tableMapFromDisk(this.dataDir)
    const existing = new TableFiles(this.dataDir, () => existingMap, this.buckets, 'read')
    const records: [string, RecordFile][] = []
    for (const recordId of namedRecordIds(tablesOverWholeIndex(parsed.whole))) {
      if (existsSync(join(this.dataDir, RECORDS_DIR, `${recordId}.json`))) {
        records.push([recordId, await readLegacyRecordFile(this.dataDir, recordId)])
      } else {
        const record = existing.entry('records', recordId) as RecordFile | undefined
        if (record !== undefined) records.push([recordId, record])
      }
    }
    if (tables.length > 0) {
      // Never swept: the tables the restored backup replaces may hold changes made after it.
      renameSync(join(this.dataDir, TABLES_DIR), join(this.dataDir, `.${TABLES_DIR}-replaced-${existingMap.generation}`))
    }
    await this.writeTablesFrom(parsed.whole, 1, records)
    this.setLegacyRecordsAside()
  }

  /**
   * Renames a schema-2 records folder (a file per record) once the head that replaced it is
   * written: kept beside `config.json.schema-2.bak` (its keys stay sealed), out of the tables' way.
   */
  private setLegacyRecordsAside(): void {
    if (this.parseIndexFile().head === undefined) return
    if (!existsSync(join(this.dataDir, RECORDS_DIR))) return
    const aside = join(this.dataDir, LEGACY_RECORDS_BACKUP)
    rmSync(aside, { recursive: true, force: true })
    renameSync(join(this.dataDir, RECORDS_DIR), aside)
  }

  /** Writes a whole index and its records as tables (each bucket a new file of `generation`), then the head. */
  private async writeTablesFrom(whole: WholeIndex, generation: number, records: [string, RecordFile][]): Promise<void> {
    ensureTableFolders(this.dataDir)
    const map: TableMap = { generation: 0, files: {} }
    const files = new TableFiles(this.dataDir, () => map, this.buckets, 'change')
    fillTables(fileTables(files), whole)
    for (const [recordId, record] of records) files.setEntry('records', recordId, record)
    const written = files.writeChanged(generation)
    const head: HeadFile = { ...headOf(whole), schemaVersion: SCHEMA_VERSION, tables: { generation, files: written.files } }
    if (Object.values(whole.devices).some((device) => typeof device.deviceKey === 'string')) head.unsealedDeviceKeys = true
    try {
      await writeHead(this.dataDir, head)
    } catch (error) {
      for (const path of written.written) rmSync(path, { force: true })
      throw error
    }
  }

  /** `config.json` as it is on disk now, parsed and checked. */
  private parseIndexFile(): ParsedIndex {
    let text: string
    try {
      text = readFileSync(join(this.dataDir, INDEX_FILE), 'utf8')
    } catch {
      throw describeFolderProblem(this.dataDir)
    }
    return parseIndex(this.dataDir, text)
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

  /** The tables of `head` for reading: buckets load when a lookup needs them, shared and cached. */
  private readView(head: HeadFile): StoreData {
    const files = new TableFiles(
      this.dataDir,
      () => head.tables,
      this.buckets,
      'read',
      () => this.latestTableMap(),
    )
    const data = { ...headOf(head), ...fileTables(files) }
    this.viewFiles.set(data, files)
    return data
  }

  /** The newest head's table map, for a read that found its bucket file retired by a later commit. */
  private latestTableMap(): TableMap {
    const parsed = this.parseIndexFile()
    if (parsed.head === undefined)
      throw new CertdeskError('CORRUPT_STORE', message('store.indexNotRegistry', { where: join(this.dataDir, INDEX_FILE) }))
    return parsed.head.tables
  }

  /**
   * The registry as it is on disk now. The head is parsed again only when its file has changed
   * (by this process or another), and table files only when a lookup needs one it has not read,
   * so reads stay cheap at thousands of certificates. The result is shared: read it, do not
   * change it (changes go through `mutate`). The same object comes back until the head changes.
   */
  read(): StoreData {
    return this.current().data
  }

  /** The index as `read` serves it, and the head or whole index it was made from. */
  private current(): { data: StoreData; head?: HeadFile; whole?: WholeIndex } {
    const identity = this.indexIdentity()
    if (identity !== undefined && this.cached?.identity === identity) return this.cached
    const parsed = this.parseIndexFile()
    // A whole index put back by hand while this process runs: read as it is; the next change upgrades it.
    if (parsed.whole !== undefined) return { data: tablesOverWholeIndex(parsed.whole), whole: parsed.whole }
    const data = this.readView(parsed.head)
    this.buckets.keepOnly(namedTableFiles(this.dataDir, parsed.head.tables))
    const current = { identity: identity ?? '', head: parsed.head, data }
    if (identity !== undefined) this.cached = current
    return current
  }

  /**
   * Read, change and write the index as one step against every other writer of this folder.
   * `change` is synchronous on purpose: slow work (key generation, signing) happens before,
   * outside the lock.
   */
  mutate<T>(change: (data: StoreData) => T, options: { staged?: RecordStaging } = {}): Promise<T> {
    return this.commit((data) => change(data), options)
  }

  /** The lookup keys that differ from what the records say: `doctor`'s check. */
  lookupKeyProblems(): string[] {
    const parsed = this.parseIndexFile()
    if (parsed.head === undefined) return []
    const { tables } = parsed.head
    return lookupKeyProblems(new TableFiles(this.dataDir, () => tables, this.buckets, 'read'))
  }

  /** Rebuilds the lookup keys from the records: `doctor --repair`. */
  async rebuildLookupKeys(): Promise<void> {
    await this.commit((_data, files) => rebuildLookupKeys(files))
  }

  private commit<T>(change: (data: StoreData, files: TableFiles) => T, options: { staged?: RecordStaging } = {}): Promise<T> {
    return this.queue.run(() =>
      withFolderLock(this.dataDir, async (stillHeld) => {
        let parsed = this.parseIndexFile()
        if (parsed.whole !== undefined) {
          await this.upgradeInLock()
          parsed = this.parseIndexFile()
        }
        // The head is parsed anew, so it is this change's own; the tables hand out private copies.
        const head = parsed.head as HeadFile
        const files = new TableFiles(this.dataDir, () => head.tables, this.buckets, 'change')
        const tables = fileTables(files)
        const data: StoreData = { ...headOf(head), ...tables }
        const result = change(data, files)
        const staged = options.staged?.changes()
        for (const [recordId, record] of staged?.written ?? []) files.setEntry('records', recordId, record)
        for (const recordId of staged?.removed ?? []) files.deleteEntry('records', recordId)
        tables.certificates.reconcileKeys()
        tables.devices.reconcileKeys()
        // The entry is flushed before the head that records it: a crash in between leaves one
        // entry past the head, never a change without its entry.
        const event = auditContext.getStore()
        const entry = event === undefined ? undefined : appendAuditEntry(this.dataDir, data.audit, this.actor, event, result)
        if (entry) data.audit = { seq: entry.seq, hash: entry.hash }
        const generation = head.tables.generation + 1
        let written: ReturnType<TableFiles['writeChanged']>
        try {
          ensureTableFolders(this.dataDir)
          written = files.writeChanged(generation)
        } catch (error) {
          entry?.undo()
          throw writeFailure(error, join(this.dataDir, TABLES_DIR))
        }
        const next: HeadFile = { ...headOf(data), tables: { generation, files: written.files } }
        // Stalled past the lock's staleness, another process may have taken the folder over (and
        // swept these files as a killed commit's): then this change must not be committed.
        if (!stillHeld() || written.written.some((path) => !existsSync(path))) {
          for (const path of written.written) rmSync(path, { force: true })
          throw new CertdeskError('LOCKED', message('lock.lost', { dataDir: this.dataDir }))
        }
        this.keepPreviousIndex()
        try {
          await writeHead(this.dataDir, next)
        } catch (error) {
          for (const path of written.written) rmSync(path, { force: true })
          entry?.undo()
          throw writeFailure(error, join(this.dataDir, INDEX_FILE))
        }
        // Readers holding the old head find these gone and read the new head's files instead.
        for (const path of written.retired) rmSync(path, { force: true })
        this.buckets.keepOnly(namedTableFiles(this.dataDir, next.tables))
        const identity = this.indexIdentity()
        if (identity !== undefined) this.cached = { identity, head: next, data: this.readView(next) }
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
          const backup = JSON.parse(readFileSync(path, 'utf8')) as WholeIndex | HeadFile
          // A head (schema 3) holds no table: the change sees empty ones and only its fields are kept.
          const whole: WholeIndex = 'tables' in backup ? { ...backup, certificates: {}, devices: {}, bindings: [] } : backup
          const data = tablesOverWholeIndex(whole)
          if (!change(data)) continue
          const rewritten =
            'tables' in backup
              ? { ...headOf(data), tables: backup.tables }
              : { ...headOf(data), certificates: whole.certificates, devices: whole.devices, bindings: whole.bindings }
          // Its time kept: doctor tells backups apart by name, but an operator looks at times.
          const { atime, mtime } = statSync(path)
          await writeFileAtomic(path, JSON.stringify(rewritten, null, '\t'))
          utimesSync(path, atime, mtime)
        } catch {
          // A backup that is not an index is left as it is.
        }
      }
    })
  }

  /** Table files the head does not name (`unnamedTableFilesIn`), by the head this store has read. */
  unnamedTableFiles(): string[] {
    let head: HeadFile | undefined
    try {
      head = this.current().head
    } catch {
      return []
    }
    return head === undefined ? [] : unnamedTableFilesIn(this.dataDir, head.tables)
  }

  /** Table files the head names that are missing or damaged: `doctor`'s first look at the tables. */
  tableFileProblems(): string[] {
    const parsed = this.parseIndexFile()
    return parsed.head === undefined ? [] : namedTableFileProblems(this.dataDir, parsed.head.tables)
  }

  /** Removes the unnamed table files; call with the folder lock held. */
  private sweepUnnamedTableFiles(): string[] {
    const unnamed = this.unnamedTableFiles()
    for (const path of unnamed) rmSync(path, { force: true })
    return unnamed
  }

  /** Where new records wait, sealed, for the change that names them; see `RecordStaging`. */
  async stageRecords(): Promise<RecordStaging> {
    return new RecordStaging((recordId, material) => this.sealRecord(recordId, material))
  }

  private async sealRecord(recordId: string, material: RecordMaterial): Promise<RecordFile> {
    const privateKey = material.privateKeyPem === null ? null : await this.vault.sealPrivateKey(recordId, material.privateKeyPem)
    return recordFileOf(material.certificatePem, privateKey)
  }

  /** The ids of every record the tables hold, named or not: `doctor`'s orphan check. */
  recordIds(): string[] {
    const files = this.viewFiles.get(this.read())
    return files === undefined ? [] : files.entriesOf('records').map(([recordId]) => recordId)
  }

  /** Removes records the index does not name (re-checked under the lock): `doctor --repair`. */
  async removeUnnamedRecords(recordIds: readonly string[]): Promise<void> {
    await this.commit((data, files) => {
      const named = namedRecordIds(data)
      for (const recordId of recordIds) if (!named.has(recordId)) files.deleteEntry('records', recordId)
    })
  }

  /**
   * A record as the registry holds it now (its key sealed); a missing one is a `CORRUPT_STORE`
   * error. (A whole schema-2 index put back by hand is read with its record files until upgraded.)
   */
  async readRecord(recordId: string): Promise<RecordFile> {
    const data = this.read()
    const files = this.viewFiles.get(data)
    if (files === undefined) return readLegacyRecordFile(this.dataDir, recordId)
    const record = files.entry('records', recordId) as RecordFile | undefined
    if (record === undefined) throw new CertdeskError('CORRUPT_STORE', message('store.recordDamaged', { recordId }))
    return record
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
   * Finishes what killed processes left: table files the head does not name; temporary files;
   * and in a schema-2 folder (before its upgrade), a staging folder's records that the index
   * names are moved into place (their commit got as far as the index), the rest deleted with
   * their folder. Call with the folder lock held.
   */
  sweepLeftovers(): string[] {
    const data = this.read()
    const swept = [...leftoversIn(this.dataDir), ...this.sweepUnnamedTableFiles()]
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
    return checkedCertificatePem(this.read(), recordId, (await this.readRecord(recordId)).certificatePem)
  }

  /** Certificate and decrypted private key, read together. Needs the vault unlocked. */
  async readRecordMaterial(recordId: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
    // The file is read while the vault unlocks (a passphrase costs a scrypt run).
    const [file] = await Promise.all([this.readRecord(recordId), this.vault.key()])
    if (file.privateKey === null) {
      throw new CertdeskError('NOT_FOUND', message('certificate.noPrivateKey', { recordId }))
    }
    const privateKeyPem = await this.vault.openPrivateKey(recordId, file.privateKey)
    return { certificatePem: checkedCertificatePem(this.read(), recordId, file.certificatePem), privateKeyPem }
  }
}
