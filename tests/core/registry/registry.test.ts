import { beforeAll, describe, expect, it } from 'vitest'
import { CertdeskError } from '../../../src-main/core/errors'
import { Workspace } from '../../../src-main/core/workspace'
import { temporaryFolder } from '../../helpers/tools'

let workspace: Workspace

beforeAll(async () => {
  workspace = await Workspace.initialise(`${await temporaryFolder()}/data`, { keyType: 'ec-p256' })
})

async function refusal(promise: Promise<unknown> | (() => unknown), code: string): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    expect(error).toBeInstanceOf(CertdeskError)
    expect((error as CertdeskError).code).toBe(code)
    return (error as CertdeskError).message
  }
  throw new Error('expected a refusal')
}

describe('certificates', () => {
  it('trims names, defaults to enabled, the CA key type and 365 days', async () => {
    const certificate = await workspace.issueDeviceCertificate({ name: '  Gateway 1  ' })
    expect(certificate.name).toBe('Gateway 1')
    expect(certificate.enabled).toBe(true)
    expect(certificate.keyType).toBe('ec-p256')
    expect(certificate.cn).toMatch(/^[0-9a-f]{32}$/)
    expect(certificate.id).toMatch(/^crt_[a-z0-9]{10}$/)
    expect(Math.round((Date.parse(certificate.notAfter) - Date.now()) / 86_400_000)).toBe(365)
    expect(workspace.getCertificate(certificate.id)).toEqual(certificate)
    expect(workspace.getCertificate(certificate.cn).id).toBe(certificate.id)
  })

  it('refuses empty, overlong and duplicate names (case-insensitively)', async () => {
    const before = workspace.listCertificates().length
    expect(await refusal(workspace.issueDeviceCertificate({ name: '   ' }), 'INVALID_INPUT')).toMatch(/empty/)
    expect(await refusal(workspace.issueDeviceCertificate({ name: 'x'.repeat(65) }), 'INVALID_INPUT')).toMatch(/65 characters/)
    await workspace.issueDeviceCertificate({ name: 'x'.repeat(64) })
    await workspace.issueDeviceCertificate({ name: 'Unique Name' })
    expect(await refusal(workspace.issueDeviceCertificate({ name: 'UNIQUE name' }), 'CONFLICT')).toMatch(/already exists/)
    // Only the two valid ones were added.
    expect(workspace.listCertificates()).toHaveLength(before + 2)
  })

  it('refuses a validity that outlives the root CA', async () => {
    expect(await refusal(workspace.issueDeviceCertificate({ name: 'Too long', days: 5000 }), 'INVALID_INPUT')).toMatch(
      /outlive the root CA/,
    )
  })

  it('edits name and availability, refusing a name another certificate has', async () => {
    const a = await workspace.issueDeviceCertificate({ name: 'Edit A', enabled: false })
    await workspace.issueDeviceCertificate({ name: 'Edit B' })
    expect(a.enabled).toBe(false)
    const updated = await workspace.updateCertificate(a.id, { name: 'Edit A2', enabled: true })
    expect(updated).toMatchObject({ name: 'Edit A2', enabled: true })
    await refusal(workspace.updateCertificate(a.id, { name: 'edit b' }), 'CONFLICT')
    // Renaming to its own name in another case is allowed.
    expect((await workspace.updateCertificate(a.id, { name: 'EDIT A2' })).name).toBe('EDIT A2')
  })
})

describe('devices', () => {
  it('generates device ID, username and a 36-character device key', async () => {
    const device = await workspace.createDevice({ name: 'Pump', authType: 'token' })
    expect(device.deviceId).toMatch(/^[a-z0-9]{16}$/)
    expect(device.username).toBe(device.deviceId)
    expect(device.deviceKey).toMatch(/^[A-Za-z0-9]{36}$/)
    const other = await workspace.createDevice({ name: 'Pump', authType: 'token' })
    expect(other.deviceKey).not.toBe(device.deviceKey)
    expect(other.deviceId).not.toBe(device.deviceId)
  })

  it('validates device IDs and usernames and keeps device IDs unique', async () => {
    await refusal(workspace.createDevice({ name: 'a', authType: 'token', deviceId: 'short' }), 'INVALID_INPUT')
    await refusal(workspace.createDevice({ name: 'a', authType: 'token', deviceId: 'has space inside' }), 'INVALID_INPUT')
    await refusal(workspace.createDevice({ name: 'a', authType: 'token', deviceId: 'x'.repeat(37) }), 'INVALID_INPUT')
    await refusal(workspace.createDevice({ name: 'a', authType: 'token', username: 'with space' }), 'INVALID_INPUT')
    const device = await workspace.createDevice({ name: 'a', authType: 'cert', deviceId: 'meter_01-A', username: 'meter-user' })
    expect(device).toMatchObject({ deviceId: 'meter_01-A', username: 'meter-user', authType: 'cert' })
    await refusal(workspace.createDevice({ name: 'b', authType: 'token', deviceId: 'meter_01-A' }), 'CONFLICT')
    await refusal(workspace.createDevice({ name: 'b', authType: 'token', deviceId: device.id }), 'CONFLICT')
    expect(workspace.getDevice('meter_01-A').id).toBe(device.id)
  })

  it('regenerates the device key and nothing else', async () => {
    const device = await workspace.createDevice({ name: 'Regen', authType: 'token' })
    const regenerated = await workspace.regenerateDeviceKey(device.deviceId)
    expect(regenerated.deviceKey).not.toBe(device.deviceKey)
    expect(regenerated.deviceKey).toMatch(/^[A-Za-z0-9]{36}$/)
    expect({ ...regenerated, deviceKey: '', updatedAt: '' }).toEqual({ ...device, deviceKey: '', updatedAt: '' })
  })
})

describe('bindings', () => {
  it('binds many-to-many, only cert devices, once, all or nothing', async () => {
    const first = await workspace.issueDeviceCertificate({ name: 'Bind 1' })
    const second = await workspace.issueDeviceCertificate({ name: 'Bind 2' })
    const camera = await workspace.createDevice({ name: 'Camera', authType: 'cert' })
    const sensor = await workspace.createDevice({ name: 'Sensor', authType: 'cert' })
    const token = await workspace.createDevice({ name: 'Token', authType: 'token' })

    const bound = await workspace.bindDevices(first.id, [camera.deviceId, sensor.deviceId])
    expect(bound.boundDeviceIds.sort()).toEqual([camera.deviceId, sensor.deviceId].sort())
    await workspace.bindDevices(second.id, [camera.deviceId])
    expect(workspace.getDevice(camera.id).certificateIds.sort()).toEqual([first.id, second.id].sort())

    expect(await refusal(workspace.bindDevices(second.id, [sensor.deviceId, token.deviceId]), 'CONFLICT')).toMatch(/token authentication/)
    // The refusal bound nothing, not even the valid device named before the token one.
    expect(workspace.getCertificate(second.id).boundDeviceIds).toEqual([camera.deviceId])
    expect(await refusal(workspace.bindDevices(first.id, [camera.deviceId]), 'CONFLICT')).toMatch(/already bound/)
    await refusal(workspace.bindDevices(first.id, ['no-such-device']), 'NOT_FOUND')
    await refusal(workspace.bindDevices('crt_nothing', [camera.deviceId]), 'NOT_FOUND')

    expect(await refusal(workspace.deleteCertificate(first.id), 'CONFLICT')).toMatch(/bound to 2 device\(s\)/)
    expect(await refusal(workspace.updateDevice(camera.deviceId, { authType: 'token' }), 'CONFLICT')).toMatch(/unbind/)

    await workspace.unbindDevices(first.id, [camera.deviceId])
    await refusal(workspace.unbindDevices(first.id, [camera.deviceId]), 'CONFLICT')
    await workspace.deleteDevice(sensor.deviceId)
    expect(workspace.getCertificate(first.id).boundDeviceIds).toEqual([])
    await workspace.deleteCertificate(first.id)
    await refusal(() => workspace.getCertificate(first.id), 'NOT_FOUND')

    await workspace.unbindDevices(second.id, [camera.id])
    expect((await workspace.updateDevice(camera.id, { authType: 'token' })).authType).toBe('token')
  })
})
