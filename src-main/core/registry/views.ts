import { DEFAULT_PROFILE_NAME } from '../pki/profiles'
import type {
  BrokerServerCertificateRecord,
  CertificateRecord,
  DeviceRecord,
  KeyProtectionKind,
  RootCaRecord,
  StoreData,
} from '../store/schema'

/**
 * What front doors show of a certificate, field by field: a field added to the stored record
 * stays inside until it is listed here.
 */
export interface CertificateView {
  id: string
  name: string
  cn: string
  enabled: boolean
  status: CertificateRecord['status']
  keyType: CertificateRecord['keyType']
  serial: string
  fingerprint256: string
  notBefore: string
  notAfter: string
  createdAt: string
  updatedAt: string
  /** Only for a revoked certificate: when, and the RFC 5280 reason. */
  revokedAt?: string
  revocationReason?: CertificateRecord['revocationReason']
  /** Device IDs (MQTT client ids) of the bound devices. */
  boundDeviceIds: string[]
  /** 'csr': signed from the device's own request; then Certdesk holds no private key. */
  keyOrigin: CertificateRecord['keyOrigin']
  hasPrivateKey: boolean
  /** The profile it was issued with ('default' for the built-in one). */
  profile: string
  /** The record id of the certificate this one renews. */
  renewedFrom?: string
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
  /** Record ids (`crt_…`) of the certificates bound to this device. */
  certificateIds: string[]
}

/** What creating a device or regenerating its key answers: the view, with the new key once. */
export type DeviceWithKey = DeviceView & { deviceKey: string }

export interface RootCaView {
  commonName: string
  subject: string
  keyType: RootCaRecord['keyType']
  serial: string
  fingerprint256: string
  notBefore: string
  notAfter: string
  createdAt: string
  /** Made by `ca init`, or brought in by `ca import` (then root_ca.crt may hold its chain). */
  origin: RootCaRecord['origin']
  keyProtection: KeyProtectionKind
  dataDir: string
  /** The CRL distribution point written into device certificates issued from now on, when set. */
  crlDistributionPoint?: string
}

/** The broker's server certificate as shown (not the record file it is kept in). */
export interface ServerCertificateView {
  names: string[]
  keyType: BrokerServerCertificateRecord['keyType']
  serial: string
  fingerprint256: string
  notBefore: string
  notAfter: string
}

export function serverCertificateView(record: BrokerServerCertificateRecord): ServerCertificateView {
  const { names, keyType, serial, fingerprint256, notBefore, notAfter } = record
  return { names, keyType, serial, fingerprint256, notBefore, notAfter }
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

/** Reads every binding: for a list of the whole table, never for one record's view. */
export function indexBindings(data: StoreData): BindingIndex {
  const deviceIdsByCertificate = new Map<string, string[]>()
  const certificateIdsByDevice = new Map<string, string[]>()
  // In the order they were made (the table keeps them by certificate), as one device's view has them.
  const bindings = [...data.bindings.all()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  for (const binding of bindings) {
    const deviceId = data.devices.get(binding.deviceRecordId)?.deviceId
    if (deviceId === undefined) continue
    append(deviceIdsByCertificate, binding.certificateId, deviceId)
    append(certificateIdsByDevice, binding.deviceRecordId, binding.certificateId)
  }
  return { deviceIdsByCertificate, certificateIdsByDevice }
}

/** The device IDs bound to one certificate, from its own bindings (a binding to a missing device is left out). */
function boundDeviceIdsOf(data: StoreData, certificateId: string): string[] {
  return data.bindings.ofCertificate(certificateId).flatMap((binding) => {
    const device = data.devices.get(binding.deviceRecordId)
    return device ? [device.deviceId] : []
  })
}

/** The certificates bound to one device, from its own bindings. */
function boundCertificateIdsOf(data: StoreData, deviceRecordId: string): string[] {
  return data.bindings.ofDevice(deviceRecordId).map((binding) => binding.certificateId)
}

/** One certificate as shown; a list passes the index it built once (`indexBindings`). */
export function certificateView(data: StoreData, record: CertificateRecord, bindings?: BindingIndex): CertificateView {
  const { id, name, cn, enabled, status, keyType, serial, fingerprint256, notBefore, notAfter, createdAt, updatedAt } = record
  return {
    id,
    name,
    cn,
    enabled,
    status,
    keyType,
    serial,
    fingerprint256,
    notBefore,
    notAfter,
    createdAt,
    updatedAt,
    ...(record.status === 'revoked' ? { revokedAt: record.revokedAt, revocationReason: record.revocationReason } : {}),
    boundDeviceIds: bindings ? (bindings.deviceIdsByCertificate.get(record.id) ?? []) : boundDeviceIdsOf(data, record.id),
    keyOrigin: record.keyOrigin,
    hasPrivateKey: record.hasPrivateKey,
    profile: record.profile ?? DEFAULT_PROFILE_NAME,
    ...(record.renewedFrom ? { renewedFrom: record.renewedFrom } : {}),
  }
}

/** One device as shown; a list passes the index it built once (`indexBindings`). */
export function deviceView(data: StoreData, record: DeviceRecord, bindings?: BindingIndex): DeviceView {
  const { id, name, deviceId, username, authType, createdAt, updatedAt } = record
  return {
    id,
    name,
    deviceId,
    username,
    authType,
    createdAt,
    updatedAt,
    certificateIds: bindings ? (bindings.certificateIdsByDevice.get(record.id) ?? []) : boundCertificateIdsOf(data, record.id),
  }
}
