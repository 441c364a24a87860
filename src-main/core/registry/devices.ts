import { CertdeskError, invalidInput } from '../errors'
import { message } from '../messages'
import type { RegistryStore } from '../store/registryStore'
import type { AuthType, DeviceRecord, StoreData } from '../store/schema'
import { generateDeviceId, generateDeviceKey, newDeviceRecordId } from './ids'
import { findDevice } from './lookup'
import { normaliseName, validateDeviceId, validateUsername } from './validation'
import { type DeviceView, type DeviceWithKey, deviceView, indexBindings } from './views'

export function parseAuthType(value: unknown): AuthType {
  if (value !== 'token' && value !== 'cert') {
    throw invalidInput(message('device.unknownAuthType', { value: String(value) }))
  }
  return value
}

export interface DeviceInput {
  name: string
  authType: AuthType
  deviceId?: string
  username?: string
}

export interface DeviceUpdate {
  name?: string
  authType?: AuthType
}

/** Device IDs and internal ids share one namespace, so a reference never means two devices. */
function assertDeviceIdFree(data: StoreData, deviceId: string): void {
  const clash = data.devices.byDeviceId(deviceId) ?? data.devices.get(deviceId)
  if (clash) throw new CertdeskError('CONFLICT', message('device.idTaken', { deviceId }))
}

export async function createDevice(store: RegistryStore, input: DeviceInput): Promise<DeviceWithKey> {
  const name = normaliseName(input.name, 'device')
  const authType = parseAuthType(input.authType)
  const deviceId = input.deviceId === undefined ? generateDeviceId() : validateDeviceId(input.deviceId)
  const username = input.username === undefined ? deviceId : validateUsername(input.username)
  const stamp = new Date().toISOString()
  const id = newDeviceRecordId()
  const deviceKey = generateDeviceKey()
  const record: DeviceRecord = {
    id,
    name,
    deviceId,
    username,
    deviceKey: await store.sealDeviceKey(id, deviceKey),
    authType,
    createdAt: stamp,
    updatedAt: stamp,
  }
  return store.mutate((data) => {
    assertDeviceIdFree(data, deviceId)
    if (data.devices.has(record.id)) throw new CertdeskError('CONFLICT', message('device.idCollision'))
    data.devices.put(record)
    return { ...deviceView(data, record), deviceKey }
  })
}

export function listDevices(data: StoreData): DeviceView[] {
  const bindings = indexBindings(data)
  return data.devices
    .all()
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .map((record) => deviceView(data, record, bindings))
}

/** Device ID and username are fixed; a bound device stays `cert` until it is unbound. */
export async function updateDevice(store: RegistryStore, reference: string, update: DeviceUpdate): Promise<DeviceView> {
  const name = update.name === undefined ? undefined : normaliseName(update.name, 'device')
  const authType = update.authType === undefined ? undefined : parseAuthType(update.authType)
  return store.mutate((data) => deviceView(data, applyDeviceUpdate(data, findDevice(data, reference), { name, authType })))
}

/** The update rules on a record of `data` (under the lock), with name and type already checked. */
export function applyDeviceUpdate(data: StoreData, record: DeviceRecord, update: DeviceUpdate): DeviceRecord {
  const { name, authType } = update
  if (authType === 'token' && record.authType === 'cert') {
    const bound = data.bindings.ofDevice(record.id)
    if (bound.length > 0) {
      throw new CertdeskError(
        'CONFLICT',
        message('device.boundBeforeToken', {
          deviceId: record.deviceId,
          count: bound.length,
          certificates: bound.map((b) => b.certificateId).join(', '),
        }),
      )
    }
  }
  if (name !== undefined) record.name = name
  if (authType !== undefined) record.authType = authType
  record.updatedAt = new Date().toISOString()
  return record
}

export async function regenerateDeviceKey(store: RegistryStore, reference: string): Promise<DeviceWithKey> {
  const { id } = findDevice(store.read(), reference)
  const deviceKey = generateDeviceKey()
  const sealed = await store.sealDeviceKey(id, deviceKey)
  return store.mutate((data) => {
    const record = findDevice(data, id)
    record.deviceKey = sealed
    record.updatedAt = new Date().toISOString()
    return { ...deviceView(data, record), deviceKey }
  })
}

/** The device key in the clear, for the operator who asks to see or copy it. */
export async function revealDeviceKey(store: RegistryStore, reference: string): Promise<string> {
  await store.unlock()
  return store.openDeviceKey(findDevice(store.read(), reference))
}

/** Deleting a device removes its bindings with it. */
export async function deleteDevice(store: RegistryStore, reference: string): Promise<DeviceView> {
  return store.mutate((data) => {
    const record = findDevice(data, reference)
    const view = deviceView(data, record)
    for (const binding of data.bindings.ofDevice(record.id)) data.bindings.remove(binding.certificateId, record.id)
    data.devices.delete(record.id)
    return view
  })
}
