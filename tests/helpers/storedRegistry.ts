/* eslint-disable @typescript-eslint/no-explicit-any -- a test's hand edit of stored JSON */
// A data folder's registry as files, for tests that damage, downgrade or inspect what is on disk.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HeadFile, WholeIndex } from '../../src-main/core/store/schema'
import { type TableName, bucketPath, slotOf } from '../../src-main/core/store/tableFiles'

/** The head, `config.json`, as parsed JSON. */
export const readStoredHead = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8')) as HeadFile
const readHead = readStoredHead

function bucketsOf(dataDir: string, head: HeadFile, table: string): Record<string, unknown>[] {
  return Object.entries(head.tables.files)
    .filter(([slot]) => slot.startsWith(`${table}/`))
    .map(([slot, generation]) => JSON.parse(readFileSync(bucketPath(dataDir, slot, generation), 'utf8')) as Record<string, unknown>)
}

/** The records table (each certificate's PEM and sealed key) by record id. */
export function storedRecords(dataDir: string): Record<string, { certificatePem: string; privateKey: unknown }> {
  return Object.assign({}, ...bucketsOf(dataDir, readHead(dataDir), 'records'))
}

/** Everything the folder's registry holds, as one schema-2 index (head fields, tables whole). */
export function readStoredRegistry(dataDir: string): WholeIndex {
  const { tables: _tables, ...head } = readHead(dataDir)
  const merge = (table: string) => Object.assign({}, ...bucketsOf(dataDir, readHead(dataDir), table))
  const bindings = Object.values(merge('bindings') as Record<string, WholeIndex['bindings']>).flat()
  return { ...head, schemaVersion: 2, certificates: merge('certificates'), devices: merge('devices'), bindings }
}

/**
 * Changes one entry of a table behind the store's back, as another writer (or a bad restore)
 * would: the bucket is written as a new file and the head names it, so running readers see it.
 * `edit` returns the new value (undefined: keep the edited one).
 */
export function editStoredEntry(dataDir: string, table: TableName, key: string, edit: (value: any) => unknown) {
  const head = readHead(dataDir)
  const slot = slotOf(table, key)
  const generation = head.tables.files[slot]
  const bucket = (generation === undefined ? {} : JSON.parse(readFileSync(bucketPath(dataDir, slot, generation), 'utf8'))) as Record<
    string,
    unknown
  >
  bucket[key] = edit(bucket[key]) ?? bucket[key]
  const next = head.tables.generation + 1
  writeFileSync(bucketPath(dataDir, slot, next), JSON.stringify(bucket), { mode: 0o600 })
  const tables = { ...head.tables, generation: next, files: { ...head.tables.files, [slot]: next } }
  writeFileSync(join(dataDir, 'config.json.edit'), JSON.stringify({ ...head, tables }, null, '\t'), { mode: 0o600 })
  renameSync(join(dataDir, 'config.json.edit'), join(dataDir, 'config.json'))
  if (generation !== undefined) rmSync(bucketPath(dataDir, slot, generation))
}

/** Edits one stored certificate or device record in place; see `editStoredEntry`. */
export function editStoredRecord(
  dataDir: string,
  table: 'certificates' | 'devices',
  id: string,
  edit: (record: Record<string, unknown>) => void,
) {
  editStoredEntry(dataDir, table, id, (record) => {
    edit(record)
    return record
  })
}

/**
 * Makes the folder one that an earlier Certdesk wrote: everything in config.json, a file per
 * record in records/, no tables.
 */
export function writeWholeIndex(dataDir: string, whole: WholeIndex | Record<string, unknown>): void {
  if (existsSync(join(dataDir, 'tables'))) {
    mkdirSync(join(dataDir, 'records'), { recursive: true, mode: 0o700 })
    for (const [recordId, record] of Object.entries(storedRecords(dataDir))) {
      writeFileSync(join(dataDir, 'records', `${recordId}.json`), `${JSON.stringify(record)}\n`, { mode: 0o600 })
    }
  }
  rmSync(join(dataDir, 'tables'), { recursive: true, force: true })
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify(whole, null, '\t'), { mode: 0o600 })
}
