// Schema 3 keeps the registry's tables in small files, so a change reads and writes the records it
// touches instead of the whole registry (issue 12: one more device in a folder of 10,000 cost 3×
// what it cost in a folder of 100, because every change rewrote and re-parsed an 11 MB index).
//
// Each table is split into BUCKETS files by a hash of the record's key. A file is never rewritten:
// a commit writes the buckets it changed as new files named by its generation, then replaces the
// head (`config.json`), which names the current file of every bucket. The head's rename is the
// commit point: killed before it, the new files are leftovers; after it, the old ones are.
import { type Dirent, closeSync, fsyncSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { writeFailure } from './files'
import { bucketProblem } from './indexSchema'
import { TABLES_DIR } from './layout'
import type { BindingRecord, CertificateRecord, DeviceRecord, WholeIndex } from './schema'
import type { BindingTable, CertificateTable, DeviceTable, Table } from './tables'

/** At 10,000 certificates a bucket holds ~160 (~70 KB): cheap to parse and to write whole. */
export const BUCKETS = 64

/**
 * `keys` holds what lookups go by: `d:<device ID>` → device id, `n:<lower-case name>` and
 * `f:<SHA-256 fingerprint>` → certificate id, `c:<common name>` → the ids of the certificates
 * with it (oldest first: a renewal keeps the subject), `b:<device id>` → the ids of the
 * certificates bound to it. `bindings` holds each certificate's bindings under its id.
 * `records` holds each certificate's PEM and sealed private key (`recordFiles.RecordFile`) under
 * its record id: the store's alone, never handed to the core as a table.
 */
export const TABLE_NAMES = ['certificates', 'devices', 'bindings', 'keys', 'records'] as const
export type TableName = (typeof TABLE_NAMES)[number]

/** The head's record of the tables' files. */
export interface TableMap {
  /** Raised by every commit; the files a commit writes carry it in their names. */
  generation: number
  /** "devices/3f" → the generation of that bucket's current file. A bucket without one is empty. */
  files: Record<string, number>
}

type Bucket = Record<string, unknown>

/** FNV-1a: stable across versions and platforms, and fast; the spread, not secrecy, matters here. */
export function bucketOf(key: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return ((hash >>> 0) % BUCKETS).toString(16).padStart(2, '0')
}

export function slotOf(table: TableName, key: string): string {
  return `${table}/${bucketOf(key)}`
}

export function bucketPath(dataDir: string, slot: string, generation: number): string {
  return join(dataDir, TABLES_DIR, `${slot}.${generation}.json`)
}

/** The files a table map names, as paths. */
export function namedTableFiles(dataDir: string, map: TableMap): Set<string> {
  return new Set(Object.entries(map.files).map(([slot, generation]) => bucketPath(dataDir, slot, generation)))
}

/** Every file in the tables folder (named or not), for sweeping and for rebuilding a lost head. */
export function tableFilesOnDisk(dataDir: string): { path: string; slot: string; generation: number }[] {
  const found: { path: string; slot: string; generation: number }[] = []
  for (const table of TABLE_NAMES) {
    let entries: Dirent[]
    try {
      entries = readdirSync(join(dataDir, TABLES_DIR, table), { withFileTypes: true })
    } catch {
      continue
    }
    // Files only: a folder someone made here is not Certdesk's to sweep.
    for (const entry of entries.filter((candidate) => candidate.isFile())) {
      const match = /^([0-9a-f]{2})\.(\d+)\.json$/.exec(entry.name)
      const path = join(dataDir, TABLES_DIR, table, entry.name)
      if (match) found.push({ path, slot: `${table}/${match[1]}`, generation: Number(match[2]) })
      else found.push({ path, slot: '', generation: -1 })
    }
  }
  return found
}

/**
 * The map a head lost with its file would have had: per bucket, the newest file that reads whole,
 * up to generation `upTo` (the lost head's, when a backup says it: files past it are a commit
 * killed before its head).
 */
export function tableMapFromDisk(dataDir: string, upTo = Number.POSITIVE_INFINITY): TableMap {
  const candidates = tableFilesOnDisk(dataDir)
    .filter((file) => file.slot !== '' && file.generation <= upTo)
    .sort((a, b) => b.generation - a.generation)
  const files: Record<string, number> = {}
  for (const { path, slot, generation } of candidates) {
    if (files[slot] !== undefined) continue
    try {
      parseBucket(path, slot, readFileSync(path, 'utf8'))
      files[slot] = generation
    } catch {
      // Half written or damaged: an older file of the bucket, if any, is taken instead.
    }
  }
  return { generation: Math.max(0, ...Object.values(files)), files }
}

/** What is wrong with the files a head names: missing or damaged ones, one sentence each. */
export function namedTableFileProblems(dataDir: string, map: TableMap): string[] {
  const problems: string[] = []
  for (const [slot, generation] of Object.entries(map.files)) {
    const path = bucketPath(dataDir, slot, generation)
    try {
      parseBucket(path, slot, readFileSync(path, 'utf8'))
    } catch (error) {
      problems.push(missingOrDamaged(error, path).message)
    }
  }
  return problems
}

/**
 * Parsed bucket files by path (the parsed objects only: a change copies entries from them, so the
 * text is not kept). Files are never rewritten, so an entry stays true while the file exists.
 */
export class BucketCache {
  private readonly entries = new Map<string, Bucket>()

  get(path: string, slot: string): Bucket {
    const cached = this.entries.get(path)
    if (cached) return cached
    const bucket = parseBucket(path, slot, readFileSync(path, 'utf8'))
    this.entries.set(path, bucket)
    return bucket
  }

  /** Forgets files a newer head no longer names (another process's commit retired them). */
  keepOnly(paths: Set<string>): void {
    for (const path of this.entries.keys()) if (!paths.has(path)) this.entries.delete(path)
  }
}

function parseBucket(path: string, slot: string, text: string): Bucket {
  let bucket: unknown
  try {
    bucket = JSON.parse(text)
  } catch (error) {
    throw new CertdeskError('CORRUPT_STORE', message('store.indexNotJson', { where: path }), { cause: error })
  }
  const problem = bucketProblem(slot.split('/')[0] as TableName, bucket)
  if (problem !== undefined) throw new CertdeskError('CORRUPT_STORE', message('store.indexDamaged', { where: path, problem }))
  return bucket as Bucket
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT'
}

/** A change's own value for one entry, and the entry's JSON before the change (undefined: it was not there). */
interface OwnEntry {
  before: string | undefined
  value: unknown
}

const DELETED = Symbol('deleted')

/**
 * The tables of one head, read lazily by bucket. In 'read' mode entries are shared (cached, read
 * only) and a file that a newer commit retired is read from the newest head instead. In 'change'
 * mode (under the folder lock) every entry handed out is the change's own copy, parsed anew, and
 * `writeChanged` writes the buckets of the entries that differ: a change that only looks at a
 * bucket neither copies nor rewrites it.
 */
export class TableFiles {
  private readonly own = new Map<string, Map<string, OwnEntry>>()

  constructor(
    private readonly dataDir: string,
    private readonly map: () => TableMap,
    private readonly cache: BucketCache,
    private readonly mode: 'read' | 'change',
    /** The newest head's map, when a read finds its file retired. */
    private readonly latest: () => TableMap = map,
  ) {}

  private shared(slot: string): Bucket {
    const generation = this.map().files[slot]
    if (generation === undefined) return EMPTY
    const path = bucketPath(this.dataDir, slot, generation)
    try {
      return this.cache.get(path, slot)
    } catch (error) {
      if (!isMissing(error) || this.mode === 'change') throw missingOrDamaged(error, path)
      // Retired by a commit after this head was read: the newest head has the bucket's file.
      const newest = this.latest().files[slot]
      if (newest === undefined) return EMPTY
      if (newest === generation) throw missingOrDamaged(error, path)
      const newestPath = bucketPath(this.dataDir, slot, newest)
      try {
        return this.cache.get(newestPath, slot)
      } catch (retryError) {
        throw missingOrDamaged(retryError, newestPath)
      }
    }
  }

  private ownEntries(slot: string): Map<string, OwnEntry> {
    let entries = this.own.get(slot)
    if (!entries) this.own.set(slot, (entries = new Map()))
    return entries
  }

  /** The change's own entry for a key, made on first touch from the shared one. */
  private ownEntry(slot: string, key: string): OwnEntry {
    const entries = this.ownEntries(slot)
    let entry = entries.get(key)
    if (!entry) {
      const bucket = this.shared(slot)
      const before = Object.hasOwn(bucket, key) ? JSON.stringify(bucket[key]) : undefined
      entry = { before, value: before === undefined ? DELETED : JSON.parse(before) }
      entries.set(key, entry)
    }
    return entry
  }

  entry(table: TableName, key: string): unknown {
    const slot = slotOf(table, key)
    if (this.mode === 'read') {
      const bucket = this.shared(slot)
      return Object.hasOwn(bucket, key) ? bucket[key] : undefined
    }
    const value = this.ownEntry(slot, key).value
    return value === DELETED ? undefined : value
  }

  setEntry(table: TableName, key: string, value: unknown): void {
    this.ownEntry(slotOf(table, key), key).value = value
  }

  deleteEntry(table: TableName, key: string): boolean {
    const entry = this.ownEntry(slotOf(table, key), key)
    if (entry.value === DELETED) return false
    entry.value = DELETED
    return true
  }

  private slotsOf(table: TableName): string[] {
    const slots = new Set(Object.keys(this.map().files).filter((slot) => slot.startsWith(`${table}/`)))
    // In a change, buckets it filled that the head does not name yet count too.
    for (const slot of this.own.keys()) if (slot.startsWith(`${table}/`)) slots.add(slot)
    return [...slots]
  }

  entriesOf(table: TableName): [string, unknown][] {
    // Reading: the shared buckets as they are, without a lookup per key.
    if (this.mode === 'read') return this.slotsOf(table).flatMap((slot) => Object.entries(this.shared(slot)))
    const found: [string, unknown][] = []
    for (const slot of this.slotsOf(table)) {
      const keys = new Set(Object.keys(this.shared(slot)))
      for (const key of this.own.get(slot)?.keys() ?? []) keys.add(key)
      for (const key of keys) {
        const value = this.entry(table, key)
        if (value !== undefined) found.push([key, value])
      }
    }
    return found
  }

  valuesOf(table: TableName): unknown[] {
    return this.entriesOf(table).map(([, value]) => value)
  }

  /** The records of a table a change touched that were there before and still are: before, and now. */
  editedIn(table: TableName): { key: string; before: unknown; after: unknown }[] {
    const edited: { key: string; before: unknown; after: unknown }[] = []
    for (const [slot, entries] of this.own) {
      if (!slot.startsWith(`${table}/`)) continue
      for (const [key, { before, value }] of entries) {
        if (before !== undefined && value !== DELETED) edited.push({ key, before: JSON.parse(before), after: value })
      }
    }
    return edited
  }

  /**
   * Writes every bucket with an entry the change altered as a new file of `generation` (each
   * flushed, then their folders), and returns the map to put in the new head with the files it
   * retires. A failure removes what it wrote.
   */
  writeChanged(generation: number): { files: Record<string, number>; written: string[]; retired: string[] } {
    const files = { ...this.map().files }
    const written: string[] = []
    const retired: string[] = []
    try {
      for (const [slot, entries] of this.own) {
        const changes = [...entries].filter(([, { before, value }]) =>
          value === DELETED ? before !== undefined : JSON.stringify(value) !== before,
        )
        if (changes.length === 0) continue
        const bucket: Bucket = { ...this.shared(slot) }
        for (const [key, { value }] of changes) {
          if (value === DELETED) delete bucket[key]
          else bucket[key] = value
        }
        if (files[slot] !== undefined) retired.push(bucketPath(this.dataDir, slot, files[slot]))
        if (Object.keys(bucket).length === 0) {
          delete files[slot]
          continue
        }
        const path = bucketPath(this.dataDir, slot, generation)
        writeNewFile(path, JSON.stringify(bucket))
        written.push(path)
        files[slot] = generation
      }
      // The new names must be as durable as the files before a head names them.
      for (const folder of new Set(written.map((path) => dirname(path)))) syncFolder(folder)
    } catch (error) {
      for (const path of written) rmSync(path, { force: true })
      throw error
    }
    return { files, written, retired }
  }
}

const EMPTY: Bucket = Object.freeze({}) as Bucket

function missingOrDamaged(error: unknown, path: string): CertdeskError {
  if (error instanceof CertdeskError) return error
  return new CertdeskError('CORRUPT_STORE', message('store.tableFileMissing', { path }), { cause: error })
}

function syncFolder(folder: string): void {
  const fd = openSync(folder, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * A new file, flushed: it is named by the head only after this returns. A file already there
 * under this name is one no head names (a newer generation than the head's, written by a commit
 * killed before its head): under the lock it is a leftover, replaced.
 */
function writeNewFile(path: string, text: string): void {
  let fd: number | undefined
  try {
    try {
      fd = openSync(path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      rmSync(path)
      fd = openSync(path, 'wx', 0o600)
    }
    writeSync(fd, text)
    fsyncSync(fd)
  } catch (error) {
    if (fd !== undefined) {
      closeSync(fd)
      fd = undefined
      rmSync(path, { force: true })
    }
    throw writeFailure(error, path)
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

// The tables the core sees (tables.ts), over bucket files.

class FileTable<T extends { id: string }> implements Table<T> {
  constructor(
    protected readonly files: TableFiles,
    private readonly name: 'certificates' | 'devices',
  ) {}

  /** Keys in the `keys` table that name this record alone (a device ID), besides its id. */
  protected lookupKeys(_record: T): string[] {
    return []
  }

  /** Keys that several records may share (a renewal keeps its predecessor's common name): lists of ids. */
  protected sharedKeys(_record: T): string[] {
    return []
  }

  private addKey(key: string, id: string, shared: boolean): void {
    if (!shared) {
      this.files.setEntry('keys', key, id)
      return
    }
    const ids = this.files.entry('keys', key) as string[] | undefined
    if (ids === undefined) this.files.setEntry('keys', key, [id])
    else if (!ids.includes(id)) ids.push(id)
  }

  private dropKey(key: string, id: string, shared: boolean): void {
    const value = this.files.entry('keys', key)
    if (!shared) {
      if (value === id) this.files.deleteEntry('keys', key)
      return
    }
    const rest = ((value as string[] | undefined) ?? []).filter((other) => other !== id)
    if (rest.length === 0) this.files.deleteEntry('keys', key)
    else this.files.setEntry('keys', key, rest)
  }

  /**
   * Moves a record's lookup keys from what `before` had to what `after` has, touching only the
   * keys that differ (a replaced record keeps its place in a shared key's list).
   */
  private rekey(id: string, before: T | undefined, after: T | undefined): void {
    const keys = (record: T | undefined, shared: boolean) =>
      record === undefined ? [] : shared ? this.sharedKeys(record) : this.lookupKeys(record)
    for (const shared of [false, true]) {
      const old = keys(before, shared)
      const next = keys(after, shared)
      for (const key of old) if (!next.includes(key)) this.dropKey(key, id, shared)
      for (const key of next) if (!old.includes(key)) this.addKey(key, id, shared)
    }
  }

  get(id: string): T | undefined {
    return this.files.entry(this.name, id) as T | undefined
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  put(record: T): void {
    // The record it replaces, as the change has it: an edit in place since (the same object put
    // back) shows on both sides, and `reconcileKeys` moves its keys at the commit.
    const previous = this.get(record.id)
    this.files.setEntry(this.name, record.id, record)
    this.rekey(record.id, previous, record)
  }

  delete(id: string): boolean {
    const previous = this.get(id)
    if (!previous) return false
    this.files.deleteEntry(this.name, id)
    this.rekey(id, previous, undefined)
    return true
  }

  all(): T[] {
    return this.files.valuesOf(this.name) as T[]
  }

  protected byKey(key: string): T | undefined {
    const id = this.files.entry('keys', key)
    return typeof id === 'string' ? this.get(id) : undefined
  }

  protected bySharedKey(key: string): T[] {
    const ids = (this.files.entry('keys', key) as string[] | undefined) ?? []
    return ids.map((id) => this.get(id)).filter((record) => record !== undefined)
  }

  /**
   * Brings the lookup keys in line with records a change edited in place (a renamed certificate):
   * from each record as it was before the change to as it is now. Idempotent after `put`.
   */
  reconcileKeys(): void {
    for (const { key, before, after } of this.files.editedIn(this.name)) this.rekey(key, before as T, after as T)
  }
}

class FileCertificateTable extends FileTable<CertificateRecord> implements CertificateTable {
  protected lookupKeys(record: CertificateRecord): string[] {
    return [`n:${record.name.toLowerCase()}`, `f:${record.fingerprint256}`]
  }

  protected sharedKeys(record: CertificateRecord): string[] {
    return [`c:${record.cn}`]
  }

  withCommonName(cn: string) {
    return this.bySharedKey(`c:${cn}`)
  }

  byFingerprint(fingerprint256: string) {
    return this.byKey(`f:${fingerprint256}`)
  }

  byCommonName(cn: string) {
    return this.withCommonName(cn)[0]
  }

  byName(name: string) {
    return this.byKey(`n:${name.toLowerCase()}`)
  }
}

class FileDeviceTable extends FileTable<DeviceRecord> implements DeviceTable {
  protected lookupKeys(record: DeviceRecord): string[] {
    return [`d:${record.deviceId}`]
  }

  byDeviceId(deviceId: string) {
    return this.byKey(`d:${deviceId}`)
  }
}

class FileBindingTable implements BindingTable {
  /** Each certificate's bound devices as a set, built on first use: `has` is one lookup (CONNECT). */
  private readonly boundSets = new Map<string, Set<string>>()

  constructor(private readonly files: TableFiles) {}

  /** The stored list itself: in a change, the change's own (add and remove edit it). */
  private listOf(certificateId: string): BindingRecord[] | undefined {
    return this.files.entry('bindings', certificateId) as BindingRecord[] | undefined
  }

  private boundSet(certificateId: string): Set<string> {
    let set = this.boundSets.get(certificateId)
    if (!set) {
      set = new Set((this.listOf(certificateId) ?? []).map((binding) => binding.deviceRecordId))
      this.boundSets.set(certificateId, set)
    }
    return set
  }

  ofCertificate(certificateId: string): BindingRecord[] {
    return [...(this.listOf(certificateId) ?? [])]
  }

  ofDevice(deviceRecordId: string): BindingRecord[] {
    const certificateIds = (this.files.entry('keys', `b:${deviceRecordId}`) as string[] | undefined) ?? []
    return certificateIds.flatMap((certificateId) =>
      (this.listOf(certificateId) ?? []).filter((binding) => binding.deviceRecordId === deviceRecordId),
    )
  }

  has(certificateId: string, deviceRecordId: string): boolean {
    return this.boundSet(certificateId).has(deviceRecordId)
  }

  add(binding: BindingRecord): void {
    const { certificateId, deviceRecordId } = binding
    if (this.has(certificateId, deviceRecordId)) return
    const list = this.listOf(certificateId)
    if (list === undefined) this.files.setEntry('bindings', certificateId, [binding])
    else list.push(binding)
    this.boundSet(certificateId).add(deviceRecordId)
    const deviceKey = `b:${deviceRecordId}`
    const certificateIds = this.files.entry('keys', deviceKey) as string[] | undefined
    if (certificateIds === undefined) this.files.setEntry('keys', deviceKey, [certificateId])
    else certificateIds.push(certificateId)
  }

  remove(certificateId: string, deviceRecordId: string): boolean {
    if (!this.has(certificateId, deviceRecordId)) return false
    const rest = (this.listOf(certificateId) ?? []).filter((binding) => binding.deviceRecordId !== deviceRecordId)
    if (rest.length === 0) this.files.deleteEntry('bindings', certificateId)
    else this.files.setEntry('bindings', certificateId, rest)
    this.boundSet(certificateId).delete(deviceRecordId)
    const deviceKey = `b:${deviceRecordId}`
    const others = ((this.files.entry('keys', deviceKey) as string[] | undefined) ?? []).filter((id) => id !== certificateId)
    if (others.length === 0) this.files.deleteEntry('keys', deviceKey)
    else this.files.setEntry('keys', deviceKey, others)
    return true
  }

  all(): BindingRecord[] {
    return (this.files.valuesOf('bindings') as BindingRecord[][]).flat()
  }
}

export interface FileTables {
  certificates: FileCertificateTable
  devices: FileDeviceTable
  bindings: FileBindingTable
}

/** The three tables over one head's files. */
export function fileTables(files: TableFiles): FileTables {
  return {
    certificates: new FileCertificateTable(files, 'certificates'),
    devices: new FileDeviceTable(files, 'devices'),
    bindings: new FileBindingTable(files),
  }
}

/**
 * What the `keys` table should hold, worked out from the records: the lists (common names, a
 * device's certificates) sorted, so two are compared by content, not by the order they grew in.
 */
function expectedLookupKeys(files: TableFiles): Map<string, string | string[]> {
  const expected = new Map<string, string | string[]>()
  const push = (key: string, id: string) => expected.set(key, [...((expected.get(key) as string[] | undefined) ?? []), id])
  const certificates = (files.valuesOf('certificates') as CertificateRecord[]).sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  for (const certificate of certificates) {
    expected.set(`n:${certificate.name.toLowerCase()}`, certificate.id)
    expected.set(`f:${certificate.fingerprint256}`, certificate.id)
    push(`c:${certificate.cn}`, certificate.id)
  }
  for (const device of files.valuesOf('devices') as DeviceRecord[]) expected.set(`d:${device.deviceId}`, device.id)
  for (const binding of (files.valuesOf('bindings') as BindingRecord[][]).flat()) push(`b:${binding.deviceRecordId}`, binding.certificateId)
  return expected
}

const sameKey = (a: unknown, b: unknown) =>
  Array.isArray(a) && Array.isArray(b) ? JSON.stringify([...a].sort()) === JSON.stringify([...b].sort()) : a === b

/** Lookup keys that are missing, wrong or name nothing (a hand edit, a restore): `doctor` counts them. */
export function lookupKeyProblems(files: TableFiles): string[] {
  const expected = expectedLookupKeys(files)
  const actual = new Map(files.entriesOf('keys'))
  const wrong = [...expected].filter(([key, value]) => !sameKey(actual.get(key), value)).map(([key]) => key)
  return [...wrong, ...[...actual.keys()].filter((key) => !expected.has(key))]
}

/** Makes the `keys` table what the records say (in a change); `doctor --repair`. */
export function rebuildLookupKeys(files: TableFiles): void {
  const expected = expectedLookupKeys(files)
  for (const [key, value] of files.entriesOf('keys')) if (!sameKey(value, expected.get(key))) files.deleteEntry('keys', key)
  for (const [key, value] of expected) if (!sameKey(files.entry('keys', key), value)) files.setEntry('keys', key, value)
}

/** Fills empty tables from an index held whole (a schema-2 folder being upgraded, a new folder). */
export function fillTables(tables: FileTables, whole: Pick<WholeIndex, 'certificates' | 'devices' | 'bindings'>): void {
  for (const record of Object.values(whole.certificates)) tables.certificates.put(record)
  for (const record of Object.values(whole.devices)) tables.devices.put(record)
  for (const binding of whole.bindings) tables.bindings.add(binding)
}
