import { isReservedId } from '../registry/validation'
import { constantTimeEqual } from '../crypto'
import { type Message, message, renderMessage } from '../messages'
import type { DeviceRecord, StoreData } from '../store/schema'
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

/** The device whose device ID is the client_id: a point lookup, so a CONNECT reads one record. */
function findDevice(data: StoreData, clientId: string): DeviceRecord | undefined {
  return data.devices.byDeviceId(clientId)
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
  const certificate = data.certificates.byFingerprint(presented.fingerprint256)
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
  if (!data.bindings.has(certificate.id, device.id)) return refuse(message('refusal.certificateNotBound', { deviceId }), 5)
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
