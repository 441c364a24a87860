import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { CertdeskError } from '../errors'
import { processOfThisHostIsGone } from './folderLock'
import { indexProblem } from './indexSchema'
import { INDEX_FILE, INIT_MARKER, OWN_ENTRIES, RECORDS_DIR } from './layout'
import { SCHEMA_VERSION, type StoreData, migrate } from './schema'
import { VAULT_KEY_FILE } from './vault'

/** What is wrong with a data folder that has no readable index: missing, a file, foreign, or keys without their index. */
export function describeFolderProblem(dataDir: string): CertdeskError {
  let stats
  try {
    stats = statSync(dataDir)
  } catch {
    return new CertdeskError('NOT_INITIALISED', `There is no Certdesk data folder at ${dataDir} yet.`)
  }
  if (!stats.isDirectory()) {
    return new CertdeskError('NOT_A_DATA_FOLDER', `${dataDir} is a file, not a Certdesk data folder.`)
  }
  const entries = readdirSync(dataDir)
  const foreign = entries.filter((entry) => !OWN_ENTRIES.has(entry) && !entry.startsWith('.') && !entry.startsWith(`${INDEX_FILE}.`))
  if (foreign.length > 0) {
    return new CertdeskError('NOT_A_DATA_FOLDER', `${dataDir} is not a Certdesk data folder (it has no ${INDEX_FILE}).`)
  }
  const keys = keyMaterialIn(dataDir)
  if (keys.length > 0 && !initInterrupted(dataDir)) {
    const backups = entries.filter((entry) => entry.startsWith(`${INDEX_FILE}.`) && entry.endsWith('.bak')).sort()
    const restore =
      backups.length > 0
        ? `restore it with "certdesk doctor --restore-index" (from ${backups.join(', ')}) or from your own backup`
        : 'restore it from your own backup'
    return new CertdeskError(
      'INDEX_MISSING',
      `The registry index ${join(dataDir, INDEX_FILE)} is missing, but the folder still holds keys (${keys.join(', ')}); ${restore}. Certdesk will not create a new root CA over them.`,
    )
  }
  return new CertdeskError('NOT_INITIALISED', `The data folder ${dataDir} has no root CA yet.`)
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

/** Checks the shape well enough that later code can trust the types. */
export function parseIndex(dataDir: string, text: string): StoreData & { migratedFrom?: number } {
  const where = join(dataDir, INDEX_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new CertdeskError('CORRUPT_STORE', `${where} is damaged (it is not valid JSON); restore it from a backup.`, { cause: error })
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
  const problem = indexProblem(data)
  if (problem !== undefined) {
    throw new CertdeskError('CORRUPT_STORE', `${where} is damaged (${problem}); restore it from a backup or run "certdesk doctor".`)
  }
  return migrated ? { ...data, migratedFrom: typeof version === 'number' ? version : 1 } : data
}
