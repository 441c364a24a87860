import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { processOfThisHostIsGone } from './folderLock'
import { headProblem, indexProblem } from './indexSchema'
import { INDEX_FILE, INIT_MARKER, OWN_ENTRIES, RECORDS_DIR, TABLES_DIR } from './layout'
import { type HeadFile, LAST_WHOLE_SCHEMA, SCHEMA_VERSION, type WholeIndex, migrate } from './schema'
import { VAULT_KEY_FILE } from './vault'

/** What is wrong with a data folder that has no readable index: missing, a file, foreign, or keys without their index. */
export function describeFolderProblem(dataDir: string): CertdeskError {
  let stats
  try {
    stats = statSync(dataDir)
  } catch {
    return new CertdeskError('NOT_INITIALISED', message('store.noFolder', { dataDir }))
  }
  if (!stats.isDirectory()) {
    return new CertdeskError('NOT_A_DATA_FOLDER', message('store.isFile', { dataDir }))
  }
  const entries = readdirSync(dataDir)
  const foreign = entries.filter((entry) => !OWN_ENTRIES.has(entry) && !entry.startsWith('.') && !entry.startsWith(`${INDEX_FILE}.`))
  if (foreign.length > 0) {
    return new CertdeskError('NOT_A_DATA_FOLDER', message('store.notDataFolder', { dataDir, indexFile: INDEX_FILE }))
  }
  const keys = keyMaterialIn(dataDir)
  if (keys.length > 0 && !initInterrupted(dataDir)) {
    const backups = entries.filter((entry) => entry.startsWith(`${INDEX_FILE}.`) && entry.endsWith('.bak')).sort()
    const found = { index: join(dataDir, INDEX_FILE), keys: keys.join(', ') }
    return new CertdeskError(
      'INDEX_MISSING',
      backups.length > 0
        ? message('store.indexMissingWithBackups', { ...found, backups: backups.join(', ') })
        : message('store.indexMissing', found),
    )
  }
  return new CertdeskError('NOT_INITIALISED', message('rootCa.missing', { dataDir }))
}

/** The vault key and sealed records a folder holds: what a new `ca init` would destroy. */
function keyMaterialIn(dataDir: string): string[] {
  const found: string[] = []
  if (existsSync(join(dataDir, VAULT_KEY_FILE))) found.push(VAULT_KEY_FILE)
  let records: string[] = []
  try {
    records = readdirSync(join(dataDir, RECORDS_DIR)).filter((entry) => entry.endsWith('.json'))
  } catch {
    // No records folder.
  }
  if (records.length > 0) found.push(`${records.length} record file${records.length === 1 ? '' : 's'} in ${RECORDS_DIR}/`)
  // Schema 3 keeps the records (each certificate's sealed key) in the tables.
  let recordTables: string[] = []
  try {
    recordTables = readdirSync(join(dataDir, TABLES_DIR, 'records')).filter((entry) => entry.endsWith('.json'))
  } catch {
    // No tables.
  }
  if (recordTables.length > 0) {
    found.push(`${recordTables.length} file${recordTables.length === 1 ? '' : 's'} of records in ${TABLES_DIR}/records/`)
  }
  return found
}

/** True when a `ca init` started here and its process is gone: its files are leftovers, not keys in use. */
export function initInterrupted(dataDir: string): boolean {
  try {
    const [hostTag, pid] = readFileSync(join(dataDir, INIT_MARKER), 'utf8').trim().split(':')
    return processOfThisHostIsGone(hostTag, Number(pid))
  } catch {
    return false
  }
}

/** A parsed `config.json`: a schema-3 head, or a whole index from before the tables (to upgrade). */
export type ParsedIndex = { head: HeadFile; whole?: undefined } | { head?: undefined; whole: WholeIndex; fromSchema: number }

/** Checks the shape well enough that later code can trust the types. */
export function parseIndex(dataDir: string, text: string): ParsedIndex {
  const where = join(dataDir, INDEX_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new CertdeskError('CORRUPT_STORE', message('store.indexNotJson', { where }), { cause: error })
  }
  const looksLikeIndex =
    typeof raw === 'object' &&
    raw !== null &&
    typeof (raw as { vault?: { protection?: unknown } }).vault?.protection === 'string' &&
    (typeof (raw as { certificates?: unknown }).certificates === 'object' || typeof (raw as { tables?: unknown }).tables === 'object')
  if (!looksLikeIndex) {
    throw new CertdeskError('CORRUPT_STORE', message('store.indexNotRegistry', { where }))
  }
  const record = raw as Record<string, unknown>
  const version = record.schemaVersion
  if (typeof version === 'number' && version > SCHEMA_VERSION) {
    throw new CertdeskError('NEWER_STORE', message('store.indexNewer', { where, version, supported: SCHEMA_VERSION }))
  }
  if (typeof version === 'number' && version > LAST_WHOLE_SCHEMA) {
    const problem = headProblem(record)
    if (problem !== undefined) throw new CertdeskError('CORRUPT_STORE', message('store.indexDamaged', { where, problem }))
    return { head: record as unknown as HeadFile }
  }
  const { data } = migrate(record)
  const problem = indexProblem(data)
  if (problem !== undefined) {
    throw new CertdeskError('CORRUPT_STORE', message('store.indexDamaged', { where, problem }))
  }
  return { whole: data, fromSchema: typeof version === 'number' ? version : 1 }
}
