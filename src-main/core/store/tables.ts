// The registry's three tables as the core sees them: lookups by key, so a change reads and writes
// the records it touches. How they are kept on disk is the store's business (`registryStore`).
import { ownEntry } from '../registry/lookup'
import type { BindingRecord, CertificateRecord, DeviceRecord, RegistryHead, StoreData, WholeIndex } from './schema'

/**
 * Records by id. Inside `RegistryStore.mutate` the records handed out are the change's own
 * copies: edit them in place and the store saves what changed. Outside, they are shared: read only.
 */
export interface Table<T extends { id: string }> {
  get(id: string): T | undefined
  has(id: string): boolean
  /** Adds a record, or replaces the one with its id. */
  put(record: T): void
  delete(id: string): boolean
  /** Every record, in no set order. Reads the whole table: for lists and exports, not lookups. */
  all(): T[]
}

export interface CertificateTable extends Table<CertificateRecord> {
  /** The oldest with this subject common name (a renewal keeps its predecessor's). */
  byCommonName(cn: string): CertificateRecord | undefined
  /** Every certificate with this common name, oldest first. */
  withCommonName(cn: string): CertificateRecord[]
  /** By name, ignoring case (names are unique that way). */
  byName(name: string): CertificateRecord | undefined
  /** By SHA-256 fingerprint: how the broker knows a client certificate. */
  byFingerprint(fingerprint256: string): CertificateRecord | undefined
}

export interface DeviceTable extends Table<DeviceRecord> {
  /** By device ID (the MQTT client_id; unique). */
  byDeviceId(deviceId: string): DeviceRecord | undefined
}

/** Which devices use which certificate, both ways round. */
export interface BindingTable {
  ofCertificate(certificateId: string): BindingRecord[]
  ofDevice(deviceRecordId: string): BindingRecord[]
  has(certificateId: string, deviceRecordId: string): boolean
  add(binding: BindingRecord): void
  remove(certificateId: string, deviceRecordId: string): boolean
  all(): BindingRecord[]
}

/** The head's fields of a registry, without its tables. */
export function headOf(data: RegistryHead): RegistryHead {
  const { schemaVersion, vault, rootCa, broker, audit, testerProfiles, profiles, unsealedDeviceKeys } = data
  const head: RegistryHead = { schemaVersion, vault, rootCa }
  if (unsealedDeviceKeys === true) head.unsealedDeviceKeys = true
  if (broker !== undefined) head.broker = broker
  if (audit !== undefined) head.audit = audit
  if (testerProfiles !== undefined) head.testerProfiles = testerProfiles
  if (profiles !== undefined) head.profiles = profiles
  return head
}

class WholeTable<T extends { id: string }> implements Table<T> {
  constructor(protected readonly records: Record<string, T>) {}

  get(id: string): T | undefined {
    return ownEntry(this.records, id)
  }

  has(id: string): boolean {
    return Object.hasOwn(this.records, id)
  }

  put(record: T): void {
    this.records[record.id] = record
  }

  delete(id: string): boolean {
    if (!this.has(id)) return false
    delete this.records[id]
    return true
  }

  all(): T[] {
    return Object.values(this.records)
  }

  protected find(matches: (record: T) => boolean): T | undefined {
    return Object.values(this.records).find(matches)
  }
}

class WholeCertificateTable extends WholeTable<CertificateRecord> implements CertificateTable {
  byCommonName(cn: string) {
    return this.find((record) => record.cn === cn)
  }

  withCommonName(cn: string) {
    return this.all().filter((record) => record.cn === cn)
  }

  byName(name: string) {
    const wanted = name.toLowerCase()
    return this.find((record) => record.name.toLowerCase() === wanted)
  }

  byFingerprint(fingerprint256: string) {
    return this.find((record) => record.fingerprint256 === fingerprint256)
  }
}

class WholeDeviceTable extends WholeTable<DeviceRecord> implements DeviceTable {
  byDeviceId(deviceId: string) {
    return this.find((record) => record.deviceId === deviceId)
  }
}

class WholeBindingTable implements BindingTable {
  constructor(private readonly whole: WholeIndex) {}

  ofCertificate(certificateId: string) {
    return this.whole.bindings.filter((binding) => binding.certificateId === certificateId)
  }

  ofDevice(deviceRecordId: string) {
    return this.whole.bindings.filter((binding) => binding.deviceRecordId === deviceRecordId)
  }

  has(certificateId: string, deviceRecordId: string) {
    return this.whole.bindings.some((b) => b.certificateId === certificateId && b.deviceRecordId === deviceRecordId)
  }

  add(binding: BindingRecord) {
    if (!this.has(binding.certificateId, binding.deviceRecordId)) this.whole.bindings.push(binding)
  }

  remove(certificateId: string, deviceRecordId: string) {
    const before = this.whole.bindings.length
    this.whole.bindings = this.whole.bindings.filter((b) => !(b.certificateId === certificateId && b.deviceRecordId === deviceRecordId))
    return this.whole.bindings.length !== before
  }

  all() {
    return [...this.whole.bindings]
  }
}

/**
 * The tables over an index held whole in memory (schema 2's file, a backup, a migration).
 * Changes through the tables change `whole`; the head's fields are `whole`'s own.
 */
export function tablesOverWholeIndex(whole: WholeIndex): StoreData {
  return {
    ...headOf(whole),
    certificates: new WholeCertificateTable(whole.certificates),
    devices: new WholeDeviceTable(whole.devices),
    bindings: new WholeBindingTable(whole),
  }
}
