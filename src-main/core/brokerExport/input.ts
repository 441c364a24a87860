// The registry as an export for a production broker needs it: read in the main process, with the
// token devices' keys in the clear only long enough for a generator to hash them.
import { randomBytes } from 'node:crypto'
import type { RegistryStore } from '../store/registryStore'
import { brokerSettings } from '../broker/settings'
import { topicRulesIn } from '../broker/topicRules'
import { type BrokerExportInput, type ExportedCertificate, byCodePoint } from './types'

/** The seed's listeners, which the production broker keeps: one-way TLS and mutual TLS. */
const PRODUCTION_PORTS = { oneWay: 8883, mutual: 8884 } as const

export async function registryForExport(
  store: RegistryStore,
  material: Pick<BrokerExportInput, 'caPem' | 'server' | 'crl'>,
): Promise<BrokerExportInput> {
  await store.unlock()
  const data = store.read()
  const devices = data.devices.all().sort((a, b) => byCodePoint(a.deviceId, b.deviceId))
  const tokenDevices = devices
    .filter((device) => device.authType === 'token')
    .map((device) => ({ deviceId: device.deviceId, username: device.username, deviceKey: store.openDeviceKey(device) }))
  const certificateDevices = devices
    .filter((device) => device.authType === 'cert')
    .map((device) => ({
      deviceId: device.deviceId,
      username: device.username,
      certificates: data.bindings.ofDevice(device.id).flatMap((binding): ExportedCertificate[] => {
        const certificate = data.certificates.get(binding.certificateId)
        if (!certificate) return []
        const { name, cn, serial, fingerprint256, status, enabled, notAfter } = certificate
        return [{ name, cn, serial, fingerprint256, status, enabled, notAfter }]
      }),
    }))
  const { maxPacketBytes, maxConnections, connectRatePerAddress } = brokerSettings(store)
  return {
    ...material,
    tokenDevices,
    certificateDevices,
    topicRules: topicRulesIn(data),
    ports: { ...PRODUCTION_PORTS },
    limits: { maxPacketBytes, maxConnections, connectRatePerAddress },
    randomBytes,
  }
}
