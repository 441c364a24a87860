import { describe, expect, it } from 'vitest'
import { type ConnectAttempt, decideConnection } from '../../../src-main/core/broker/authentication'
import type { CertificateRecord, DeviceRecord, StoreData } from '../../../src-main/core/store/schema'
import { tablesOverWholeIndex } from '../../../src-main/core/store/tables'

// The seed's rules as a pure function, checked without a broker: one table row per rule.
const NOW = new Date('2026-06-01T00:00:00Z')
const FINGERPRINT = `${'AB:'.repeat(31)}AB`

function certificate(overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    id: 'crt_aaaaaaaaaa',
    name: 'c',
    cn: 'cn',
    enabled: true,
    status: 'active',
    keyType: 'ec-p256',
    serial: '01',
    fingerprint256: FINGERPRINT,
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2027-01-01T00:00:00Z',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    keyOrigin: 'generated',
    hasPrivateKey: true,
    ...overrides,
  }
}

function device(id: string, deviceId: string, authType: 'token' | 'cert'): DeviceRecord {
  return {
    id,
    name: deviceId,
    deviceId,
    username: `${deviceId}-user`,
    deviceKey: `key-of-${deviceId}`,
    authType,
    createdAt: '',
    updatedAt: '',
  }
}

function registry(certificateOverrides: Partial<CertificateRecord> = {}, bound = true): StoreData {
  return tablesOverWholeIndex({
    schemaVersion: 2,
    vault: { protection: 'keyfile' },
    rootCa: null,
    certificates: { crt_aaaaaaaaaa: certificate(certificateOverrides) },
    devices: { dev_token: device('dev_token', 'meter-0001', 'token'), dev_cert: device('dev_cert', 'pump-0001', 'cert') },
    bindings: bound ? [{ certificateId: 'crt_aaaaaaaaaa', deviceRecordId: 'dev_cert', createdAt: '' }] : [],
  })
}

// The test registry keeps device keys in the clear; the broker's reader opens sealed ones.
const readKey = (record: DeviceRecord) => record.deviceKey as string
const oneWay = (clientId: string, username: string, password?: string): ConnectAttempt => ({
  listener: 'one-way',
  clientId,
  username,
  password: password === undefined ? undefined : Buffer.from(password),
})
const mutual = (
  clientId: string,
  username: string,
  presented: Partial<NonNullable<ConnectAttempt['certificate']>> | null = {},
): ConnectAttempt => ({
  listener: 'mutual',
  clientId,
  username,
  certificate: presented === null ? undefined : { fingerprint256: FINGERPRINT, authorized: true, ...presented },
})

describe('decideConnection', () => {
  it.each<[string, StoreData, ConnectAttempt, string | true, number?]>([
    ['token device, right key', registry(), oneWay('meter-0001', 'meter-0001-user', 'key-of-meter-0001'), true],
    ['wrong key', registry(), oneWay('meter-0001', 'meter-0001-user', 'nope'), 'wrong device key', 4],
    ['no key', registry(), oneWay('meter-0001', 'meter-0001-user'), 'no device key given for device meter-0001', 4],
    ['wrong username', registry(), oneWay('meter-0001', 'other', 'key-of-meter-0001'), 'wrong username for device meter-0001', 4],
    ['unknown device', registry(), oneWay('ghost-0001', 'x', 'y'), 'unknown device "ghost-0001"', 2],
    [
      'cert device on one-way',
      registry(),
      oneWay('pump-0001', 'pump-0001-user', 'key-of-pump-0001'),
      'device pump-0001 uses certificate authentication; connect on the mutual-TLS port',
      5,
    ],
    ['reserved client id', registry(), oneWay('constructor', 'x', 'y'), 'client id "constructor" is reserved', 2],
    ['bound certificate', registry(), mutual('pump-0001', 'pump-0001-user'), true],
    ['no certificate', registry(), mutual('pump-0001', 'pump-0001-user', null), 'no client certificate presented', 5],
    [
      'other CA',
      registry(),
      mutual('pump-0001', 'pump-0001-user', { authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      'client certificate does not chain to the root CA',
      5,
    ],
    [
      'unknown certificate',
      registry(),
      mutual('pump-0001', 'pump-0001-user', { fingerprint256: `${'CD:'.repeat(31)}CD` }),
      'certificate is not one Certdesk issued (or it was deleted)',
      5,
    ],
    [
      'revoked',
      registry({ status: 'revoked', revokedAt: '2026-05-01T00:00:00.000Z', revocationReason: 'superseded' }),
      mutual('pump-0001', 'pump-0001-user'),
      'certificate is revoked (superseded, 2026-05-01T00:00:00.000Z)',
      5,
    ],
    ['disabled', registry({ enabled: false }), mutual('pump-0001', 'pump-0001-user'), 'certificate is disabled', 5],
    ['expired', registry({ notAfter: '2026-05-01T00:00:00Z' }), mutual('pump-0001', 'pump-0001-user'), 'client certificate has expired', 5],
    [
      'not yet valid',
      registry({ notBefore: '2026-07-01T00:00:00Z' }),
      mutual('pump-0001', 'pump-0001-user'),
      'client certificate is not yet valid',
      5,
    ],
    ['not bound', registry({}, false), mutual('pump-0001', 'pump-0001-user'), 'certificate is not bound to device pump-0001', 5],
    [
      'token device on mutual',
      registry(),
      mutual('meter-0001', 'meter-0001-user'),
      'device meter-0001 uses token authentication; connect on the one-way port',
      5,
    ],
    ['wrong username on mutual', registry(), mutual('pump-0001', 'someone'), 'wrong username for device pump-0001', 4],
  ])('%s', (_case, data, attempt, expected, returnCode) => {
    const decision = decideConnection(data, attempt, readKey, NOW)
    if (expected === true) expect(decision.accepted).toBe(true)
    else
      expect(decision).toEqual({
        accepted: false,
        reason: expected,
        reasonMessage: expect.objectContaining({ key: expect.any(String) }),
        returnCode,
      })
  })

  it('a key that cannot be read refuses the device, and does not throw', () => {
    const unreadable = () => {
      throw new Error('bad tag')
    }
    expect(decideConnection(registry(), oneWay('meter-0001', 'meter-0001-user', 'x'), unreadable, NOW)).toEqual({
      accepted: false,
      reason: 'the device key of meter-0001 cannot be read (the registry is damaged; run certdesk doctor)',
      reasonMessage: { key: 'refusal.deviceKeyUnreadable', params: { deviceId: 'meter-0001' } },
      returnCode: 5,
    })
  })
})
