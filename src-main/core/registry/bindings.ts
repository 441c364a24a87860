import { CertdeskError, invalidInput } from '../errors'
import { message } from '../messages'
import type { RegistryStore } from '../store/registryStore'
import { assertNotRevoked } from './certificates'
import { findCertificate, findDevice } from './lookup'
import { type CertificateView, certificateView } from './views'

function distinctReferences(references: readonly string[]): string[] {
  if (references.length === 0) throw invalidInput(message('binding.noDevices'))
  return [...new Set(references)]
}

/**
 * Binds devices to a certificate, all or none: one refusal (unknown device, token device,
 * already bound) leaves every binding as it was.
 */
export async function bindDevices(store: RegistryStore, certificateReference: string, deviceReferences: readonly string[]) {
  const references = distinctReferences(deviceReferences)
  return store.mutate((data): CertificateView => {
    const certificate = findCertificate(data, certificateReference)
    assertNotRevoked(certificate, 'certificate.revokedNoBind')
    const devices = references.map((reference) => findDevice(data, reference))
    for (const device of devices) {
      if (device.authType !== 'cert') {
        throw new CertdeskError('CONFLICT', message('binding.tokenDevice', { deviceId: device.deviceId }))
      }
      if (data.bindings.has(certificate.id, device.id)) {
        throw new CertdeskError('CONFLICT', message('binding.alreadyBound', { deviceId: device.deviceId, certificate: certificate.name }))
      }
    }
    const stamp = new Date().toISOString()
    for (const device of devices) {
      data.bindings.add({ certificateId: certificate.id, deviceRecordId: device.id, createdAt: stamp })
    }
    return certificateView(data, certificate)
  })
}

export async function unbindDevices(store: RegistryStore, certificateReference: string, deviceReferences: readonly string[]) {
  const references = distinctReferences(deviceReferences)
  return store.mutate((data): CertificateView => {
    const certificate = findCertificate(data, certificateReference)
    const devices = references.map((reference) => findDevice(data, reference))
    for (const device of devices) {
      if (!data.bindings.has(certificate.id, device.id)) {
        throw new CertdeskError('CONFLICT', message('binding.notBound', { deviceId: device.deviceId, certificate: certificate.name }))
      }
    }
    for (const device of devices) data.bindings.remove(certificate.id, device.id)
    return certificateView(data, certificate)
  })
}
