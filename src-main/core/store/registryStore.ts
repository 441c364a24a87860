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
const CERTIFICATES_DIR = 'certs'
const KEYS_DIR = 'keys'
/** What a data folder may hold before `ca init` has finished: leftovers of an interrupted one. */
const OWN_ENTRIES = new Set([INDEX_FILE, VAULT_KEY_FILE, LOCK_FILE, CERTIFICATES_DIR, KEYS_DIR])

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
  private vaultKey: Buffer | undefined

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
    parseIndex(dataDir, text)
    const store = new RegistryStore(dataDir, openIndex(dataDir), options.passphrase)
    await store.upgradeIfNeeded()
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
      store.vaultKey = vault.key
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

  private async upgradeIfNeeded(): Promise<void> {
    const current = this.readWithMigrationInfo()
    if (current.migratedFrom === undefined) return
    // Keep the file as it was, so a migration can always be undone by hand.
    const index = join(this.dataDir, INDEX_FILE)
    await copyFile(index, `${index}.schema-${current.migratedFrom}.bak`)
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

  /** A fresh copy of the index, at the current schema. */
  read(): StoreData {
    const { migratedFrom: _ignored, ...data } = this.readWithMigrationInfo()
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
        const data = this.read()
        const result = change(data)
        this.index.store = data as unknown as Record<string, unknown>
        return result
      }),
    )
  }

  /** The vault key, unlocked once per store with the passphrase (if any) given at open. */
  private async key(): Promise<Buffer> {
    this.vaultKey ??= await unlockVault(this.dataDir, this.read().vault, this.passphrase)
    return this.vaultKey
  }

  /** Fails early, before slow work, when the vault cannot be opened. */
  async unlock(): Promise<void> {
    await this.key()
  }

  async writePrivateKey(recordId: string, pem: string): Promise<void> {
    const box = seal(await this.key(), Buffer.from(pem, 'utf8'), `private-key:${recordId}`)
    await ensurePrivateDirectory(join(this.dataDir, KEYS_DIR))
    await writeFileAtomic(this.keyPath(recordId), JSON.stringify({ format: 'aes-256-gcm', ...box }) + '\n')
  }

  async readPrivateKey(recordId: string): Promise<string> {
    const key = await this.key()
    let box: SealedBox
    try {
      box = JSON.parse(await readFile(this.keyPath(recordId), 'utf8')) as SealedBox
    } catch {
      throw new CertdeskError('CORRUPT_STORE', `The private key file for ${recordId} is missing or damaged.`)
    }
    try {
      return open(key, box, `private-key:${recordId}`).toString('utf8')
    } catch {
      throw new CertdeskError('CORRUPT_STORE', `The private key for ${recordId} cannot be decrypted: the file is damaged.`)
    }
  }

  async writeCertificatePem(recordId: string, pem: string): Promise<void> {
    await ensurePrivateDirectory(join(this.dataDir, CERTIFICATES_DIR))
    await writeFileAtomic(this.certificatePath(recordId), pem, 0o644)
  }

  async readCertificatePem(recordId: string): Promise<string> {
    try {
      return await readFile(this.certificatePath(recordId), 'utf8')
    } catch {
      throw new CertdeskError('CORRUPT_STORE', `The certificate file for ${recordId} is missing.`)
    }
  }

  /** Removes a record's files; used after the index no longer names them. */
  async removeRecordFiles(recordId: string): Promise<void> {
    await rm(this.keyPath(recordId), { force: true })
    await rm(this.certificatePath(recordId), { force: true })
  }

  private keyPath(recordId: string): string {
    return join(this.dataDir, KEYS_DIR, `${recordId}.json`)
  }

  private certificatePath(recordId: string): string {
    return join(this.dataDir, CERTIFICATES_DIR, `${recordId}.pem`)
  }
}
