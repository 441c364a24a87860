import type { KeyType } from '../pki/keys'
import type { AuthType, CertificateRecord, DeviceRecord, StoreData } from '../store/schema'

/** What front doors show of a certificate: its record plus the devices bound to it. */
export interface CertificateView {
  id: string
  name: string
  cn: string
  enabled: boolean
  status: CertificateRecord['status']
  keyType: KeyType
  serial: string
  fingerprint256: string
  notBefore: string
  notAfter: string
  createdAt: string
  updatedAt: string
  /** Device IDs (MQTT client ids) of the bound devices. */
  boundDevices: string[]
}

export interface DeviceView {
  id: string
  name: string
  deviceId: string
  username: string
  deviceKey: string
  authType: AuthType
  createdAt: string
  updatedAt: string
  /** Ids of the certificates bound to this device. */
  certificates: string[]
}

export interface RootCaView {
  commonName: string
  subject: string
  keyType: KeyType
  serial: string
  fingerprint256: string
  notBefore: string
  notAfter: string
  createdAt: string
  keyProtection: 'passphrase' | 'keyfile'
  dataDir: string
}

export function certificateView(data: StoreData, record: CertificateRecord): CertificateView {
  const boundDevices = data.bindings
    .filter((binding) => binding.certificateId === record.id)
    .map((binding) => data.devices[binding.deviceRecordId]?.deviceId)
    .filter((deviceId): deviceId is string => deviceId !== undefined)
  return {
    id: record.id,
    name: record.name,
    cn: record.cn,
    enabled: record.enabled,
    status: record.status,
    keyType: record.keyType,
    serial: record.serial,
    fingerprint256: record.fingerprint256,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    boundDevices,
  }
}

export function deviceView(data: StoreData, record: DeviceRecord): DeviceView {
  return {
    ...record,
    certificates: data.bindings
      .filter((binding) => binding.deviceRecordId === record.id)
      .map((binding) => binding.certificateId),
  }
}
