import { readdirSync, readFileSync, statSync } from 'node:fs'
import { copyFile, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import Conf from 'conf'
import lockfile from 'proper-lockfile'
import { CertdeskError } from '../errors'
import { ensurePrivateDirectory, writeFileAtomic } from './files'
import { SCHEMA_VERSION, type StoreData, migrate } from './schema'
import { type SealedBox, VAULT_KEY_FILE, createVault, open, seal, unlockVault } from './vault'

export const INDEX_FILE = 'config.json'
const LOCK_FILE = '.lock'
/** One file per certificate: its PEM and its private key, sealed under the vault key. */
const RECORDS_DIR = 'records'
/** What a data folder may hold before `ca init` has finished: leftovers of an interrupted one. */
const OWN_ENTRIES = new Set([INDEX_FILE, VAULT_KEY_FILE, LOCK_FILE, RECORDS_DIR, 'broker-log.jsonl'])

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

async function withFolderLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(dataDir, {
      lockfilePath: join(dataDir, LOCK_FILE),
      realpath: false,
      stale: 10_000,
      update: 2_000,
      retries: { retries: 300, factor: 1.3, minTimeout: 5, maxTimeout: 100 },
      // A lock lost to a stall is reported by the write that follows it, not by a crash.
      onCompromised: () => undefined,
    })
  } catch {
    throw new CertdeskError(
      'LOCKED',
      `Another Certdesk process has held the lock on ${dataDir} for too long; try again when it has finished.`,
    )
  }
  try {
    return await work()
  } finally {
    await release().catch(() => undefined)
  }
}

function describeFolderProblem(dataDir: string): CertdeskError {
  let stats
  try {
    stats = statSync(dataDir)
  } catch {
    return new CertdeskError('NOT_INITIALISED', `There is no Certdesk data folder at ${dataDir} yet.`)
  }
  if (!stats.isDirectory()) {
    return new CertdeskError('NOT_A_DATA_FOLDER', `${dataDir} is a file, not a Certdesk data folder.`)
  }
  const foreign = readdirSync(dataDir).filter((entry) => !OWN_ENTRIES.has(entry) && !entry.startsWith('.'))
  if (foreign.length > 0) {
    return new CertdeskError('NOT_A_DATA_FOLDER', `${dataDir} is not a Certdesk data folder (it has no ${INDEX_FILE}).`)
  }
  return new CertdeskError('NOT_INITIALISED', `The data folder ${dataDir} has no root CA yet.`)
}

/** Checks the shape well enough that later code can trust the types. */
function parseIndex(dataDir: string, text: string): StoreData & { migratedFrom?: number } {
  const where = join(dataDir, INDEX_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new CertdeskError('CORRUPT_STORE', `${where} is damaged (it is not valid JSON); restore it from a backup.`)
  }
  const looksLikeIndex =
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { vault?: { protection?: unknown } }).vault?.protection === 'string' &&
    typeof (raw as { certificates?: unknown }).certificates === 'object'
  if (!looksLikeIndex) {
    throw new CertdeskError('CORRUPT_STORE', `${where} is not a Certdesk registry, or it is damaged.`)
  }
  const record = raw as Record<string, unknown>
  const version = record.schemaVersion
  if (typeof version === 'number' && version > SCHEMA_VERSION) {
    throw new CertdeskError(
      'NEWER_STORE',
      `${where} was written by a newer Certdesk (schema ${version}; this one reads up to ${SCHEMA_VERSION}); upgrade Certdesk.`,
    )
  }
  const { data, migrated } = migrate(record)
  return migrated ? { ...data, migratedFrom: typeof version === 'number' ? version : 1 } : data
}

/**
 * The on-disk registry of one data folder: the JSON index, certificate PEMs and encrypted keys.
 * Every read goes to disk, because another process (the CLI beside the app) may have written.
 */
export class RegistryStore {
  private readonly queue = new Queue()
  private vaultKey: Promise<Buffer> | undefined
  /** The last index parsed, and the file identity (inode, size, times) it was parsed from. */
  private cached: { identity: string; data: StoreData } | undefined

  private constructor(
    readonly dataDir: string,
    private readonly index: IndexConf,
    private readonly passphrase: string | undefined,
  ) {}

  static async open(dataDir: string, options: { passphrase?: string } = {}): Promise<RegistryStore> {
    let text: string
    try {
      text = readFileSync(join(dataDir, INDEX_FILE), 'utf8')
    } catch {
      throw describeFolderProblem(dataDir)
    }
    const { migratedFrom } = parseIndex(dataDir, text)
    const store = new RegistryStore(dataDir, openIndex(dataDir), options.passphrase)
    if (migratedFrom !== undefined) await store.upgrade(migratedFrom)
    return store
  }

  /**
   * Creates a data folder. `build` runs with the new vault unlocked and writes its files through
   * the store; the index is written last, so an interrupted init leaves no half-made registry.
   */
  static async initialise(
    dataDir: string,
    options: { passphrase?: string },
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
      const problem = describeFolderProblem(dataDir)
      if (problem.code === 'NOT_A_DATA_FOLDER') throw problem
      try {
        statSync(join(dataDir, INDEX_FILE))
        throw new CertdeskError(
          'CONFLICT',
          `${dataDir} already has a root CA; Certdesk keeps one root CA per data folder.`,
        )
      } catch (error) {
        if (error instanceof CertdeskError) throw error
      }
      const vault = await createVault(dataDir, options.passphrase)
      const store = new RegistryStore(dataDir, openIndex(dataDir), options.passphrase)
      store.vaultKey = Promise.resolve(vault.key)
      const data: StoreData = {
        schemaVersion: SCHEMA_VERSION,
        vault: vault.record,
        rootCa: null,
        certificates: {},
        devices: {},
        bindings: [],
      }
      await build(store, data)
      store.index.store = data as unknown as Record<string, unknown>
      return store
    })
  }

  /** Writes a migrated index back, keeping the file as it was so a migration can be undone by hand. */
  private async upgrade(fromSchema: number): Promise<void> {
    const index = join(this.dataDir, INDEX_FILE)
    await copyFile(index, `${index}.schema-${fromSchema}.bak`)
    await this.mutate(() => undefined)
  }

  private readWithMigrationInfo(): StoreData & { migratedFrom?: number } {
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

  /**
   * The index at the current schema, as it is on disk now. Parsed again only when the file has
   * changed (by this process or another), so reads stay cheap at thousands of certificates.
   * The result is shared: read it, do not change it (changes go through `mutate`).
   */
  read(): StoreData {
    const identity = this.indexIdentity()
    if (identity !== undefined && this.cached?.identity === identity) return this.cached.data
    const { migratedFrom, ...data } = this.readWithMigrationInfo()
    // A migrated index is not cached until it has been written back at the current schema.
    if (identity !== undefined && migratedFrom === undefined) this.cached = { identity, data }
    return data
  }

  /**
   * Read, change and write the index as one step against every other writer of this folder.
   * `change` is synchronous on purpose: slow work (key generation, signing) happens before,
   * outside the lock.
   */
  mutate<T>(change: (data: StoreData) => T): Promise<T> {
    return this.queue.run(() =>
      withFolderLock(this.dataDir, async () => {
        // A private copy: if `change` throws halfway, the shared cached index is untouched.
        const data = structuredClone(this.read())
        const result = change(data)
        this.index.store = data as unknown as Record<string, unknown>
        const identity = this.indexIdentity()
        if (identity !== undefined) this.cached = { identity, data }
        return result
      }),
    )
  }

  /** The vault key, unlocked once per store with the passphrase (if any) given at open. */
  private key(): Promise<Buffer> {
    // One unlock (one scrypt run) even when many writers ask at once; a failed one can be retried.
    this.vaultKey ??= unlockVault(this.dataDir, this.read().vault, this.passphrase).catch((error: unknown) => {
      this.vaultKey = undefined
      throw error
    })
    return this.vaultKey
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
  async writeRecordMaterial(recordId: string, material: { certificatePem: string; privateKeyPem: string | null }) {
    const privateKey =
      material.privateKeyPem === null
        ? null
        : { format: 'aes-256-gcm', ...seal(await this.key(), Buffer.from(material.privateKeyPem, 'utf8'), `private-key:${recordId}`) }
    await ensurePrivateDirectory(join(this.dataDir, RECORDS_DIR))
    const file: RecordFile = { certificatePem: material.certificatePem, privateKey }
    await writeFileAtomic(this.recordPath(recordId), JSON.stringify(file) + '\n')
  }

  private async readRecordFile(recordId: string): Promise<RecordFile> {
    try {
      const file = JSON.parse(await readFile(this.recordPath(recordId), 'utf8')) as RecordFile
      if (typeof file.certificatePem !== 'string') throw new Error('no certificate')
      return file
    } catch {
      throw new CertdeskError('CORRUPT_STORE', `The files of ${recordId} are missing or damaged.`)
    }
  }

  async readCertificatePem(recordId: string): Promise<string> {
    return (await this.readRecordFile(recordId)).certificatePem
  }

  /** Certificate and decrypted private key, read together. Needs the vault unlocked. */
  async readRecordMaterial(recordId: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
    const [file, key] = await Promise.all([this.readRecordFile(recordId), this.key()])
    if (file.privateKey === null) {
      throw new CertdeskError('NOT_FOUND', `Certdesk holds no private key for ${recordId}: it was signed from the device's own request.`)
    }
    try {
      return {
        certificatePem: file.certificatePem,
        privateKeyPem: open(key, file.privateKey, `private-key:${recordId}`).toString('utf8'),
      }
    } catch {
      throw new CertdeskError('CORRUPT_STORE', `The private key of ${recordId} cannot be decrypted: its file is damaged.`)
    }
  }

  async readPrivateKey(recordId: string): Promise<string> {
    return (await this.readRecordMaterial(recordId)).privateKeyPem
  }

  /** Removes a record's file; used after the index no longer names it. */
  async removeRecordFiles(recordId: string): Promise<void> {
    await rm(this.recordPath(recordId), { force: true })
  }

  private recordPath(recordId: string): string {
    return join(this.dataDir, RECORDS_DIR, `${recordId}.json`)
  }
}
