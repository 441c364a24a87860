// Where a tester profile comes from, and what it tells the diagnosis: a token device is never sent
// to the mutual port, and a profile knows when it dials Certdesk's own broker.
import { beforeAll, describe, expect, it } from 'vitest'
import { CertdeskError } from '../../../src-main/core/errors'
import { profileForDevice, profileForRequest } from '../../../src-main/core/tester/profileSources'
import type { ManualQuickTest } from '../../../src-main/core/tester/types'
import { type Fleet, makeFleet } from '../../helpers/fleet'

let fleet: Fleet

beforeAll(async () => {
  fleet = await makeFleet()
  await fleet.workspace.updateBrokerSettings({ oneWayPort: 2883, mutualPort: 2884 })
})

const manual = (host: string, port: number): ManualQuickTest => ({
  kind: 'manual',
  host,
  port,
  clientId: 'probe-0001',
  protocolVersion: 4,
  verification: { mode: 'system' },
  client: { mode: 'none' },
})

describe('profiles for the tester', () => {
  it('tells a token device on the mutual port that it connects on the one-way port, not to bind a certificate', async () => {
    const refusal = await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId, { port: 2884 }).catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(CertdeskError)
    expect(refusal).toMatchObject({
      code: 'CONFLICT',
      messageKey: 'tester.tokenDeviceOnMutual',
      params: { deviceId: 'token-device-01', oneWayPort: 2883, mutualPort: 2884 },
    })
    expect((refusal as Error).message).toBe(
      'Device token-device-01 uses token authentication: it connects on the one-way port (2883) with its connect username and device key, not with a certificate on the mutual port (2884).',
    )
    expect((refusal as Error).message).not.toMatch(/bind/)
  })

  it('still asks a certificate device without a certificate to bind one', async () => {
    const bare = await fleet.workspace.createDevice({ name: 'Bare', authType: 'cert', deviceId: 'bare-device-01' })
    await expect(profileForDevice(fleet.workspace, bare.deviceId)).rejects.toMatchObject({
      messageKey: 'tester.noBoundCertificate',
      message: 'Device bare-device-01 has no bound certificate to test mutual TLS with; bind one first.',
    })
  })

  it("marks a profile that dials Certdesk's own broker with its ports, and no other", async () => {
    const own = { oneWayPort: 2883, mutualPort: 2884 }
    expect(await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId)).toMatchObject({ port: 2883, certdeskBroker: own })
    expect(await profileForDevice(fleet.workspace, fleet.certDevice.deviceId)).toMatchObject({ port: 2884, certdeskBroker: own })
    expect(await profileForRequest(fleet.workspace, manual('127.0.0.1', 2884))).toMatchObject({ certdeskBroker: own })
    expect(await profileForRequest(fleet.workspace, manual('LOCALHOST', 2883))).toMatchObject({ certdeskBroker: own })
    expect((await profileForRequest(fleet.workspace, manual('broker.example', 2883))).certdeskBroker).toBeUndefined()
    expect((await profileForRequest(fleet.workspace, manual('localhost', 8883))).certdeskBroker).toBeUndefined()
  })
})
