import { generateDeviceKey, newDeviceRecordId } from '../../src-main/core/registry/ids'
import { RegistryStore } from '../../src-main/core/store/registryStore'
import type { DeviceRecord } from '../../src-main/core/store/schema'
import { type CertificateView, Workspace } from '../../src-main/core/workspace'

// No Vitest here: bench/registryScreens.bench.ts makes its 10,000-row folder with this too.

const pad = (n: number) => String(n).padStart(5, '0')
/** The names a large registry's rows have: row `i` of each kind. */
export const largeRegistryNames = {
  certificate: (i: number) => `cert-${pad(i)}`,
  device: (i: number) => `Device ${pad(i)}`,
  deviceId: (i: number) => `dev-${pad(i)}`,
}

/**
 * A new data folder with `count` certificates (`cert-00000`…, issued in core batches) and `count`
 * devices (`Device 00000`…, device IDs `dev-00000`…): the even ones `cert` devices, each bound to
 * the certificate of its number, the odd ones `token` devices. The devices are written as
 * `createDevice` writes them, in one registry write (one `createDevice` each would rewrite the
 * index `count` times); each is created a millisecond after the one before.
 */
export async function makeLargeRegistry(dataDir: string, count: number): Promise<Workspace> {
  const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
  const certificates: CertificateView[] = []
  for (let from = 0; from < count; from += 2000) {
    const inputs = Array.from({ length: Math.min(2000, count - from) }, (_, k) => ({ name: largeRegistryNames.certificate(from + k) }))
    certificates.push(...(await workspace.issueDeviceCertificates(inputs)))
  }
  const store = await RegistryStore.open(dataDir)
  const base = Date.now()
  const records: DeviceRecord[] = []
  for (let i = 0; i < count; i++) {
    const id = newDeviceRecordId()
    const stamp = new Date(base + i).toISOString()
    records.push({
      id,
      name: largeRegistryNames.device(i),
      deviceId: largeRegistryNames.deviceId(i),
      username: largeRegistryNames.deviceId(i),
      deviceKey: await store.sealDeviceKey(id, generateDeviceKey()),
      authType: i % 2 === 0 ? 'cert' : 'token',
      createdAt: stamp,
      updatedAt: stamp,
    })
  }
  await store.mutate((data) => {
    records.forEach((record, i) => {
      data.devices.put(record)
      const certificate = certificates[i]
      if (record.authType === 'cert' && certificate) {
        data.bindings.add({ certificateId: certificate.id, deviceRecordId: record.id, createdAt: record.createdAt })
      }
    })
  })
  return workspace
}
