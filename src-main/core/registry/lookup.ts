import { CertdeskError } from '../errors'
import type { CertificateRecord, DeviceRecord, StoreData } from '../store/schema'

/** A certificate by its id, or by its common name. */
export function findCertificate(data: StoreData, reference: string): CertificateRecord {
  const certificate =
    data.certificates[reference] ?? Object.values(data.certificates).find((candidate) => candidate.cn === reference)
  if (!certificate) throw new CertdeskError('NOT_FOUND', `There is no certificate "${reference}".`)
  return certificate
}

/** A device by its id, or by its device ID (the MQTT client_id). */
export function findDevice(data: StoreData, reference: string): DeviceRecord {
  const device =
    data.devices[reference] ?? Object.values(data.devices).find((candidate) => candidate.deviceId === reference)
  if (!device) throw new CertdeskError('NOT_FOUND', `There is no device "${reference}".`)
  return device
}

export function bindingsOfCertificate(data: StoreData, certificateId: string) {
  return data.bindings.filter((binding) => binding.certificateId === certificateId)
}

export function bindingsOfDevice(data: StoreData, deviceRecordId: string) {
  return data.bindings.filter((binding) => binding.deviceRecordId === deviceRecordId)
}
