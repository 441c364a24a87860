import { isReservedId } from '../registry/validation'
import { constantTimeEqual } from '../crypto'
import { type Message, message, renderMessage } from '../messages'
import type { CertificateRecord, DeviceRecord, StoreData } from '../store/schema'
import type { ListenerKind } from './types'

/** What the client showed: MQTT CONNECT fields, and on the mutual port its TLS certificate. */
export interface ConnectAttempt {
  listener: ListenerKind
  clientId: string
  username?: string
  password?: Buffer
  certificate?: {
    fingerprint256: string
    /** Node's verdict on the chain against the root CA. */
    authorized: boolean
    /** Node's code when not authorized (CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE...). */
    authorizationError?: string
  }
}

/** MQTT 3.1.1 CONNACK codes: 2 identifier rejected, 4 bad username or password, 5 not authorized. */
type RefusalCode = 2 | 4 | 5

export type Decision =
  | { accepted: true; device: DeviceRecord; certificateId?: string }
  | { accepted: false; reason: string; reasonMessage: Message; returnCode: RefusalCode }

/** A refusal: its reason in English (the log, the CONNACK's error) and as the catalog's sentence. */
const refuse = (reasonMessage: Message, returnCode: RefusalCode): Decision => ({
  accepted: false,
  reason: renderMessage(reasonMessage),
  reasonMessage,
  returnCode,
})

/** What a CONNECT looks up in a registry snapshot, by key instead of by a scan of every entry. */
interface RegistryIndex {
  devicesByDeviceId: Map<string, DeviceRecord>
  certificatesByFingerprint: Map<string, CertificateRecord>
  /** `certificateId \0 deviceRecordId` of every binding. */
  bindings: Set<string>
}

/**
 * Built once per snapshot (a registry change makes a new one), so a CONNECT at 10,000 devices
 * costs a few map lookups instead of scans that allocate an array of every device.
 */
const indexes = new WeakMap<StoreData, RegistryIndex>()

function indexOf(data: StoreData): RegistryIndex {
  let index = indexes.get(data)
  if (index) return index
  index = { devicesByDeviceId: new Map(), certificatesByFingerprint: new Map(), bindings: new Set() }
  // The first entry wins, as the scans this replaces did.
  for (const device of Object.values(data.devices)) {
    if (!index.devicesByDeviceId.has(device.deviceId)) index.devicesByDeviceId.set(device.deviceId, device)
  }
  for (const certificate of Object.values(data.certificates)) {
    if (!index.certificatesByFingerprint.has(certificate.fingerprint256))
      index.certificatesByFingerprint.set(certificate.fingerprint256, certificate)
  }
  for (const binding of data.bindings) index.bindings.add(`${binding.certificateId}\u0000${binding.deviceRecordId}`)
  indexes.set(data, index)
  return index
}

function findDevice(data: StoreData, clientId: string): DeviceRecord | undefined {
  return indexOf(data).devicesByDeviceId.get(clientId)
}

/** Opens a device's sealed key (the broker's unlocked workspace does it). */
export type DeviceKeyReader = (device: DeviceRecord) => string

function oneWay(data: StoreData, attempt: ConnectAttempt, readDeviceKey: DeviceKeyReader): Decision {
  const device = findDevice(data, attempt.clientId)
  if (!device) return refuse(message('refusal.unknownDevice', { clientId: attempt.clientId }), 2)
  const { deviceId } = device
  if (device.authType !== 'token') return refuse(message('refusal.certificateDeviceOnOneWay', { deviceId }), 5)
  if (attempt.username !== device.username) return refuse(message('refusal.wrongUsername', { deviceId }), 4)
  if (attempt.password === undefined) return refuse(message('refusal.noDeviceKey', { deviceId }), 4)
  let deviceKey: string
  try {
    deviceKey = readDeviceKey(device)
  } catch {
    // A damaged sealed key refuses this device; it must never take the broker down.
    return refuse(message('refusal.deviceKeyUnreadable', { deviceId }), 5)
  }
  if (!constantTimeEqual(attempt.password.toString('utf8'), deviceKey)) return refuse(message('refusal.wrongDeviceKey'), 4)
  return { accepted: true, device }
}

function chainProblem(code: string | undefined): Message {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return message('refusal.clientCertificateExpired')
    case 'CERT_NOT_YET_VALID':
      return message('refusal.clientCertificateNotYetValid')
    default:
      return message('refusal.clientCertificateUntrusted')
  }
}

function mutual(data: StoreData, attempt: ConnectAttempt, now: Date): Decision {
  const presented = attempt.certificate
  if (!presented) return refuse(message('refusal.noClientCertificate'), 5)
  if (!presented.authorized) return refuse(chainProblem(presented.authorizationError), 5)
  // By fingerprint, not common name: a certificate is exactly the one Certdesk issued.
  const certificate = indexOf(data).certificatesByFingerprint.get(presented.fingerprint256)
  if (!certificate) return refuse(message('refusal.certificateUnknown'), 5)
  if (certificate.status === 'revoked') {
    const reason = certificate.revocationReason ?? 'unspecified'
    return refuse(message('refusal.certificateRevoked', { reason, date: certificate.revokedAt ?? 'unknown date' }), 5)
  }
  if (!certificate.enabled) return refuse(message('refusal.certificateDisabled'), 5)
  if (now.getTime() > Date.parse(certificate.notAfter)) return refuse(message('refusal.clientCertificateExpired'), 5)
  if (now.getTime() < Date.parse(certificate.notBefore)) return refuse(message('refusal.clientCertificateNotYetValid'), 5)
  const device = findDevice(data, attempt.clientId)
  if (!device) return refuse(message('refusal.unknownDevice', { clientId: attempt.clientId }), 2)
  const { deviceId } = device
  if (device.authType !== 'cert') return refuse(message('refusal.tokenDeviceOnMutual', { deviceId }), 5)
  const bound = indexOf(data).bindings.has(`${certificate.id}\u0000${device.id}`)
  if (!bound) return refuse(message('refusal.certificateNotBound', { deviceId }), 5)
  if (attempt.username !== device.username) return refuse(message('refusal.wrongUsername', { deviceId }), 4)
  return { accepted: true, device, certificateId: certificate.id }
}

/**
 * The seed platform's rules. One-way port: client_id = device ID of a token device, its
 * username, and its device key. Mutual port: a certificate Certdesk issued, enabled, valid,
 * bound to the cert device whose device ID is the client_id, and that device's username.
 * Run again on every registry change to find sessions the change made invalid.
 */
export function decideConnection(data: StoreData, attempt: ConnectAttempt, readDeviceKey: DeviceKeyReader, now = new Date()): Decision {
  // aedes keys its clients by id in a plain object: a built-in's name must never get that far.
  if (isReservedId(attempt.clientId)) return refuse(message('refusal.reservedClientId', { clientId: attempt.clientId }), 2)
  return attempt.listener === 'one-way' ? oneWay(data, attempt, readDeviceKey) : mutual(data, attempt, now)
}
