// The names of what a data folder holds, in one place (README: "The data folder").
import { AUDIT_FILE } from './audit'
import { LOCK_FILE, LOCK_OWNER_FILE } from './folderLock'
import { VAULT_KEY_FILE } from './vault'

/** The root CA's record file; the store checks its fingerprint like any other. */
export const ROOT_CA_RECORD_ID = 'root-ca'

export const INDEX_FILE = 'config.json'
/** The index as it was before the last write: what to restore if config.json is lost. */
export const INDEX_BACKUP_FILE = 'config.json.bak'
/** Schema 2 kept one file per certificate here (its PEM and sealed key); the tables hold them since. */
export const RECORDS_DIR = 'records'
/** The registry's tables, in bucket files named by the commit that wrote them (`tableFiles.ts`). */
export const TABLES_DIR = 'tables'
/** Schema 2's records folder (a file per record), set aside when the folder is upgraded. */
export const LEGACY_RECORDS_BACKUP = 'records.schema-2.bak'
/** Schema 2 wrote new records here first, moved into `records/` with the index that named them. */
export const STAGING_PREFIX = '.staging-'
/** Present while `ca init` runs; names its process, so a crashed init can be told from a lost index. */
export const INIT_MARKER = '.init-in-progress'
/** What a data folder may hold besides the index. */
export const OWN_ENTRIES = new Set([
  INDEX_FILE,
  VAULT_KEY_FILE,
  LOCK_FILE,
  LOCK_OWNER_FILE,
  RECORDS_DIR,
  LEGACY_RECORDS_BACKUP,
  TABLES_DIR,
  'broker-log.jsonl',
  AUDIT_FILE,
  `${AUDIT_FILE}.previous`,
  'orphaned',
])
