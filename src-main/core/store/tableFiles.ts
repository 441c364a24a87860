// Schema 3 keeps the registry's tables in small files, so a change reads and writes the records it
// touches instead of the whole registry (issue 12: one more device in a folder of 10,000 cost 3×
// what it cost in a folder of 100, because every change rewrote and re-parsed an 11 MB index).
//
// Each table is split into BUCKETS files by a hash of the record's key. A file is never rewritten:
// a commit writes the buckets it changed as new files named by its generation, then replaces the
// head (`config.json`), which names the current file of every bucket. The head's rename is the
// commit point: killed before it, the new files are leftovers; after it, the old ones are.
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
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
 * with it (oldest first: a renewal keeps the subject), `b:<device id>` → the ids of the certificates bound
 * to it. `bindings` holds each certificate's bindings under its id.
 */
export const TABLE_NAMES = ['certificates', 'devices', 'bindings', 'keys'] as const
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
    let entries: string[]
    try {
      entries = readdirSync(join(dataDir, TABLES_DIR, table))
    } catch {
      continue
    }
    for (const entry of entries) {
      const match = /^([0-9a-f]{2})\.(\d+)\.json$/.exec(entry)
      const path = join(dataDir, TABLES_DIR, table, entry)
      if (match) found.push({ path, slot: `${table}/${match[1]}`, generation: Number(match[2]) })
      else found.push({ path, slot: '', generation: -1 })
    }
  }
  return found
}

/**
 * The map a head lost with its file would have had: the newest file of every bucket. (A commit
 * killed before its head was written leaves newer files; they are taken too, which is what that
 * commit meant. Its audit entry, written first, says so.)
 */
export function tableMapFromDisk(dataDir: string): TableMap {
  const files: Record<string, number> = {}
  for (const { slot, generation } of tableFilesOnDisk(dataDir)) {
    if (slot !== '' && (files[slot] ?? -1) < generation) files[slot] = generation
  }
  return { generation: Math.max(0, ...Object.values(files)), files }
}

/** Parsed bucket files by path. Files are never rewritten, so an entry stays true while the file exists. */
export class BucketCache {
  private readonly entries = new Map<string, { text: string; bucket: Bucket }>()

  get(path: string, slot: string): { text: string; bucket: Bucket } {
    const cached = this.entries.get(path)
    if (cached) return cached
    const text = readFileSync(path, 'utf8')
    const bucket = parseBucket(path, slot, text)
    const entry = { text, bucket }
    this.entries.set(path, entry)
    return entry
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

/**
 * The tables of one head, read lazily by bucket. In 'read' mode buckets are shared (cached) and a
 * file that a newer commit retired is read from the newest head instead; in 'change' mode (under
 * the folder lock) each bucket is the change's own copy, and `commit` writes those that differ.
 */
export class TableFiles {
  private readonly loaded = new Map<string, { text: string | undefined; original: Bucket | undefined; bucket: Bucket }>()

  constructor(
    private readonly dataDir: string,
    private readonly map: () => TableMap,
    private readonly cache: BucketCache,
    private readonly mode: 'read' | 'change',
    /** The newest head's map, when a read finds its file retired. */
    private readonly latest: () => TableMap = map,
  ) {}

  private shared(slot: string): { text: string; bucket: Bucket } | undefined {
    const generation = this.map().files[slot]
    if (generation === undefined) return undefined
    try {
      return this.cache.get(bucketPath(this.dataDir, slot, generation), slot)
    } catch (error) {
      if (!isMissing(error) || this.mode === 'change') throw missingOrDamaged(error, bucketPath(this.dataDir, slot, generation))
      // Retired by a commit after this head was read: the newest head has the bucket's file.
      const newest = this.latest().files[slot]
      if (newest === undefined) return undefined
      return this.cache.get(bucketPath(this.dataDir, slot, newest), slot)
    }
  }

  bucket(slot: string): Bucket {
    const seen = this.loaded.get(slot)
    if (seen) return seen.bucket
    const shared = this.shared(slot)
    if (this.mode === 'read') return shared?.bucket ?? EMPTY
    // The change's own copy, parsed anew from the text: nothing shared is ever edited.
    const copy = shared === undefined ? {} : (JSON.parse(shared.text) as Bucket)
    this.loaded.set(slot, { text: shared?.text, original: shared?.bucket, bucket: copy })
    return copy
  }

  entry(table: TableName, key: string): unknown {
    const bucket = this.bucket(slotOf(table, key))
    return Object.hasOwn(bucket, key) ? bucket[key] : undefined
  }

  setEntry(table: TableName, key: string, value: unknown): void {
    this.bucket(slotOf(table, key))[key] = value
  }

  deleteEntry(table: TableName, key: string): boolean {
    const bucket = this.bucket(slotOf(table, key))
    if (!Object.hasOwn(bucket, key)) return false
    delete bucket[key]
    return true
  }

  private slotsOf(table: TableName): string[] {
    return Object.keys(this.map().files).filter((slot) => slot.startsWith(`${table}/`))
  }

  entriesOf(table: TableName): [string, unknown][] {
    return this.slotsOf(table).flatMap((slot) => Object.entries(this.bucket(slot)))
  }

  valuesOf(table: TableName): unknown[] {
    const slots = new Set(this.slotsOf(table))
    // In a change, buckets it filled that the head does not name yet count too.
    for (const slot of this.loaded.keys()) if (slot.startsWith(`${table}/`)) slots.add(slot)
    return [...slots].flatMap((slot) => Object.values(this.bucket(slot)))
  }

  /** The loaded buckets as they were before the change, for the commit's index upkeep. */
  originals(table: TableName): { original: Bucket; bucket: Bucket }[] {
    return [...this.loaded.entries()]
      .filter(([slot]) => slot.startsWith(`${table}/`))
      .map(([, { original, bucket }]) => ({ original: original ?? EMPTY, bucket }))
  }

  /**
   * Writes every bucket the change altered as a new file of `generation` (flushed), and returns
   * the map to put in the new head with the files it retires. A failure removes what it wrote.
   */
  writeChanged(generation: number): { files: Record<string, number>; written: string[]; retired: string[] } {
    const files = { ...this.map().files }
    const written: string[] = []
    const retired: string[] = []
    try {
      for (const [slot, { text, bucket }] of this.loaded) {
        const empty = Object.keys(bucket).length === 0
        const next = empty ? undefined : JSON.stringify(bucket)
        if (next === text || (empty && text === undefined)) continue
        if (files[slot] !== undefined) retired.push(bucketPath(this.dataDir, slot, files[slot]))
        if (next === undefined) {
          delete files[slot]
          continue
        }
        const path = bucketPath(this.dataDir, slot, generation)
        writeNewFile(path, next)
        written.push(path)
        files[slot] = generation
      }
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

/** A new file, flushed: it is named by the head only after this returns. */
function writeNewFile(path: string, text: string): void {
  let fd: number | undefined
  try {
    fd = openSync(path, 'wx', 0o600)
    writeSync(fd, text)
    fsyncSync(fd)
  } catch (error) {
    if (fd !== undefined) closeSync(fd)
    fd = undefined
    rmSync(path, { force: true })
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

  private addKeys(record: T): void {
    for (const key of this.lookupKeys(record)) this.files.setEntry('keys', key, record.id)
    for (const key of this.sharedKeys(record)) {
      const ids = (this.files.entry('keys', key) as string[] | undefined) ?? []
      if (!ids.includes(record.id)) this.files.setEntry('keys', key, [...ids, record.id])
    }
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

  get(id: string): T | undefined {
    return this.files.entry(this.name, id) as T | undefined
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  put(record: T): void {
    const previous = this.get(record.id)
    if (previous) this.dropKeys(previous)
    this.files.setEntry(this.name, record.id, record)
    this.addKeys(record)
  }

  delete(id: string): boolean {
    const previous = this.get(id)
    if (!previous) return false
    this.dropKeys(previous)
    this.files.deleteEntry(this.name, id)
    return true
  }

  private dropKeys(record: T): void {
    for (const key of this.lookupKeys(record)) this.dropKey(key, record.id, false)
    for (const key of this.sharedKeys(record)) this.dropKey(key, record.id, true)
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

  /** Brings the lookup keys in line with records a change edited in place (a renamed certificate). */
  reconcileKeys(): void {
    for (const { original, bucket } of this.files.originals(this.name)) {
      for (const id of Object.keys(bucket)) {
        // Added and deleted records had their keys kept by `put` and `delete`; only an edit in
        // place that changed a key is left, and the rest are compared without a lookup.
        if (!Object.hasOwn(original, id) || !Object.hasOwn(bucket, id)) continue
        const before = original[id] as T
        const after = bucket[id] as T
        const unique = this.lookupKeys(after)
        const shared = this.sharedKeys(after)
        const beforeUnique = this.lookupKeys(before)
        const beforeShared = this.sharedKeys(before)
        if (unique.join('\0') === beforeUnique.join('\0') && shared.join('\0') === beforeShared.join('\0')) continue
        for (const key of beforeUnique) if (!unique.includes(key)) this.dropKey(key, id, false)
        for (const key of beforeShared) if (!shared.includes(key)) this.dropKey(key, id, true)
        this.addKeys(after)
      }
    }
  }
}

class FileCertificateTable extends FileTable<CertificateRecord> implements CertificateTable {
  protected lookupKeys(record: CertificateRecord): string[] {
    return [`n:${record.name.toLocaleLowerCase()}`, `f:${record.fingerprint256}`]
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
    return this.byKey(`n:${name.toLocaleLowerCase()}`)
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
  constructor(private readonly files: TableFiles) {}

  ofCertificate(certificateId: string): BindingRecord[] {
    return [...((this.files.entry('bindings', certificateId) as BindingRecord[] | undefined) ?? [])]
  }

  ofDevice(deviceRecordId: string): BindingRecord[] {
    const certificateIds = (this.files.entry('keys', `b:${deviceRecordId}`) as string[] | undefined) ?? []
    return certificateIds.flatMap((certificateId) =>
      this.ofCertificate(certificateId).filter((binding) => binding.deviceRecordId === deviceRecordId),
    )
  }

  has(certificateId: string, deviceRecordId: string): boolean {
    return this.ofCertificate(certificateId).some((binding) => binding.deviceRecordId === deviceRecordId)
  }

  add(binding: BindingRecord): void {
    if (this.has(binding.certificateId, binding.deviceRecordId)) return
    this.files.setEntry('bindings', binding.certificateId, [...this.ofCertificate(binding.certificateId), binding])
    const deviceKey = `b:${binding.deviceRecordId}`
    const certificateIds = (this.files.entry('keys', deviceKey) as string[] | undefined) ?? []
    this.files.setEntry('keys', deviceKey, [...certificateIds, binding.certificateId])
  }

  remove(certificateId: string, deviceRecordId: string): boolean {
    const list = this.ofCertificate(certificateId)
    const rest = list.filter((binding) => binding.deviceRecordId !== deviceRecordId)
    if (rest.length === list.length) return false
    if (rest.length === 0) this.files.deleteEntry('bindings', certificateId)
    else this.files.setEntry('bindings', certificateId, rest)
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
    expected.set(`n:${certificate.name.toLocaleLowerCase()}`, certificate.id)
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
