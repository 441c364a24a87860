import { CertdeskError } from '../errors'
import { message } from '../messages'
import type { CertificateRecord, DeviceRecord, StoreData } from '../store/schema'

/**
 * An entry of a table keyed by id, only if the table itself holds it: `constructor`, `toString`
 * or `__proto__` must never resolve to a built-in of Object.prototype.
 */
export function ownEntry<T>(table: Record<string, T> | undefined, key: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined
}

/** A certificate by its id, or by its common name. */
export function findCertificate(data: StoreData, reference: string): CertificateRecord {
  const certificate =
    ownEntry(data.certificates, reference) ?? Object.values(data.certificates).find((candidate) => candidate.cn === reference)
  if (!certificate) throw new CertdeskError('NOT_FOUND', message('certificate.notFound', { reference }))
  return certificate
}

/** A device by its id, or by its device ID (the MQTT client_id). */
export function findDevice(data: StoreData, reference: string): DeviceRecord {
  const device = ownEntry(data.devices, reference) ?? Object.values(data.devices).find((candidate) => candidate.deviceId === reference)
  if (!device) throw new CertdeskError('NOT_FOUND', message('device.notFound', { reference }))
  return device
}

export function bindingsOfCertificate(data: StoreData, certificateId: string) {
  return data.bindings.filter((binding) => binding.certificateId === certificateId)
}

export function bindingsOfDevice(data: StoreData, deviceRecordId: string) {
  return data.bindings.filter((binding) => binding.deviceRecordId === deviceRecordId)
}
