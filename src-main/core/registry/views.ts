import { ownEntry } from './lookup'
import type { CertificateRecord, DeviceRecord, KeyProtectionKind, RootCaRecord, StoreData } from '../store/schema'

/** What front doors show of a certificate: its record plus the devices bound to it. */
export type CertificateView = Omit<CertificateRecord, 'keyOrigin' | 'hasPrivateKey' | 'renewedFrom' | 'revokedAt'> & {
  /** Device IDs (MQTT client ids) of the bound devices. */
  boundDevices: string[]
}

/** A device as front doors show it: never its key (see `DeviceWithKey` and `revealDeviceKey`). */
export interface DeviceView {
  id: string
  name: string
  deviceId: string
  username: string
  authType: DeviceRecord['authType']
  createdAt: string
  updatedAt: string
  /** Ids of the certificates bound to this device. */
  certificates: string[]
}

/** What creating a device or regenerating its key answers: the view, with the new key once. */
export type DeviceWithKey = DeviceView & { deviceKey: string }

export type RootCaView = Omit<RootCaRecord, 'origin' | 'crlNumber'> & {
  keyProtection: KeyProtectionKind
  dataDir: string
}

/** Bindings grouped both ways, built once per listing so a list of N stays O(N + bindings). */
export interface BindingIndex {
  deviceIdsByCertificate: Map<string, string[]>
  certificateIdsByDevice: Map<string, string[]>
}

function append(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

export function indexBindings(data: StoreData): BindingIndex {
  const deviceIdsByCertificate = new Map<string, string[]>()
  const certificateIdsByDevice = new Map<string, string[]>()
  for (const binding of data.bindings) {
    const deviceId = ownEntry(data.devices, binding.deviceRecordId)?.deviceId
    if (deviceId === undefined) continue
    append(deviceIdsByCertificate, binding.certificateId, deviceId)
    append(certificateIdsByDevice, binding.deviceRecordId, binding.certificateId)
  }
  return { deviceIdsByCertificate, certificateIdsByDevice }
}

export function certificateView(
  data: StoreData,
  record: CertificateRecord,
  bindings: BindingIndex = indexBindings(data),
): CertificateView {
  const { keyOrigin: _origin, hasPrivateKey: _hasKey, renewedFrom: _renewed, revokedAt: _revoked, ...shown } = record
  return { ...shown, boundDevices: bindings.deviceIdsByCertificate.get(record.id) ?? [] }
}

export function deviceView(data: StoreData, record: DeviceRecord, bindings: BindingIndex = indexBindings(data)): DeviceView {
  const { id, name, deviceId, username, authType, createdAt, updatedAt } = record
  return { id, name, deviceId, username, authType, createdAt, updatedAt, certificates: bindings.certificateIdsByDevice.get(record.id) ?? [] }
}
