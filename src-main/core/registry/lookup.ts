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
  const certificate = data.certificates.get(reference) ?? data.certificates.byCommonName(reference)
  if (!certificate) throw new CertdeskError('NOT_FOUND', message('certificate.notFound', { reference }))
  return certificate
}

/** A device by its id, or by its device ID (the MQTT client_id). */
export function findDevice(data: StoreData, reference: string): DeviceRecord {
  const device = data.devices.get(reference) ?? data.devices.byDeviceId(reference)
  if (!device) throw new CertdeskError('NOT_FOUND', message('device.notFound', { reference }))
  return device
}
