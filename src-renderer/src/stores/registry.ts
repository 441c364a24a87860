import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type {
  CertificateRequestInput,
  RenewOptions,
  SignedRequest,
  CertificateUpdate,
  CertificateView,
  DeviceCertificateInput,
  DeviceInput,
  DeviceUpdate,
  DeviceView,
  DeviceWithKey,
  RevocationReason,
  RootCaView,
} from '../../../src-main/contract/types'
import { api } from '../api'
import { errorText } from '../i18n/translate'

/**
 * The registry as the screens see it. Changes made here go through the actions below, which
 * apply what the operation returns to the lists in place (both sides of a binding included), so a
 * click costs one call and no reload; `refresh` reloads everything, on the main side's `registry`
 * events (the CLI, another window, the broker) and once at start.
 */
export const useRegistry = defineStore('registry', () => {
  const certificates = ref<CertificateView[]>([])
  const devices = ref<DeviceView[]>([])
  const rootCa = ref<RootCaView | null>(null)
  const loading = ref(false)
  /** Set once the first refresh has finished, whatever it found: until then an empty list means nothing. */
  const loaded = ref(false)
  const failure = shallowRef<unknown>(null)
  /** Why the last refresh failed, in the current language; null when it did not. */
  const error = computed(() => (failure.value === null ? null : errorText(failure.value)))

  let running: Promise<void> | undefined
  let again = false

  async function load(): Promise<void> {
    loading.value = true
    try {
      const [certificateList, deviceList, ca] = await Promise.all([api.listCertificates(), api.listDevices(), api.getRootCa()])
      certificates.value = certificateList
      devices.value = deviceList
      rootCa.value = ca
      failure.value = null
    } catch (caught) {
      failure.value = caught
    } finally {
      loading.value = false
      loaded.value = true
    }
  }

  /** Reloads the lists; events that arrive while a reload runs are answered by one more, not one each. */
  function refresh(): Promise<void> {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        await load()
      } while (again)
      running = undefined
    })()
    return running
  }

  function put<T extends { id: string }>(list: T[], item: T): void {
    const index = list.findIndex((entry) => entry.id === item.id)
    if (index === -1) list.push(item)
    else list.splice(index, 1, item)
  }
  const drop = <T extends { id: string }>(list: T[], id: string) => {
    const index = list.findIndex((entry) => entry.id === id)
    if (index !== -1) list.splice(index, 1)
  }
  /** The devices' side of a certificate's bindings, from the certificate as the core returned it. */
  function followBindings(certificate: CertificateView): void {
    for (const device of devices.value) {
      const bound = certificate.boundDeviceIds.includes(device.deviceId)
      const listed = device.certificateIds.includes(certificate.id)
      if (bound && !listed) put(devices.value, { ...device, certificateIds: [...device.certificateIds, certificate.id] })
      if (!bound && listed) put(devices.value, { ...device, certificateIds: device.certificateIds.filter((id) => id !== certificate.id) })
    }
  }
  /** A device without its key: the key is handed to the caller once and never kept here. */
  const withoutKey = ({ deviceKey: _key, ...device }: DeviceWithKey): DeviceView => device

  async function issueCertificate(input: DeviceCertificateInput): Promise<CertificateView> {
    const certificate = await api.issueDeviceCertificate(input)
    put(certificates.value, certificate)
    followBindings(certificate)
    return certificate
  }
  /** A certificate for a device's own key; the answer also says what the request asked for. */
  async function signCertificateRequest(input: CertificateRequestInput): Promise<SignedRequest> {
    const signed = await api.signCertificateRequest(input)
    put(certificates.value, signed.certificate)
    followBindings(signed.certificate)
    return signed
  }
  /** The successor, and the old certificate as renewal left it (renamed, perhaps revoked). */
  async function renewCertificate(id: string, options: RenewOptions): Promise<CertificateView> {
    const certificate = await api.renewCertificate(id, options)
    put(certificates.value, certificate)
    put(certificates.value, await api.getCertificate(id))
    followBindings(certificate)
    return certificate
  }
  async function updateCertificate(id: string, changes: CertificateUpdate): Promise<CertificateView> {
    const certificate = await api.updateCertificate(id, changes)
    put(certificates.value, certificate)
    return certificate
  }
  /** Final: the certificate stays listed, revoked (and disabled). */
  async function revokeCertificate(id: string, reason: RevocationReason): Promise<CertificateView> {
    const certificate = await api.revokeCertificate(id, reason)
    put(certificates.value, certificate)
    return certificate
  }
  /** The CA settings (the CRL distribution point) as the core returned them. */
  async function setCrlDistributionPoint(url: string | null): Promise<RootCaView> {
    rootCa.value = await api.setCrlDistributionPoint(url)
    return rootCa.value
  }
  async function deleteCertificate(id: string): Promise<CertificateView> {
    const certificate = await api.deleteCertificate(id)
    drop(certificates.value, certificate.id)
    followBindings({ ...certificate, boundDeviceIds: [] })
    return certificate
  }
  async function bindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView> {
    const certificate = await api.bindDevices(certificateId, deviceIds)
    put(certificates.value, certificate)
    followBindings(certificate)
    return certificate
  }
  async function unbindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView> {
    const certificate = await api.unbindDevices(certificateId, deviceIds)
    put(certificates.value, certificate)
    followBindings(certificate)
    return certificate
  }
  /** The new device, with its key for the caller to show once. */
  async function createDevice(input: DeviceInput): Promise<DeviceWithKey> {
    const created = await api.createDevice(input)
    put(devices.value, withoutKey(created))
    return created
  }
  async function updateDevice(id: string, changes: DeviceUpdate): Promise<DeviceView> {
    const device = await api.updateDevice(id, changes)
    put(devices.value, device)
    return device
  }
  /** The new device key, for the caller to show; the old one stops working at once. */
  async function regenerateDeviceKey(id: string): Promise<string> {
    const renewed = await api.regenerateDeviceKey(id)
    put(devices.value, withoutKey(renewed))
    return renewed.deviceKey
  }
  /** Deleting a device removes its bindings: its certificates lose it too. */
  async function deleteDevice(id: string): Promise<DeviceView> {
    const device = await api.deleteDevice(id)
    drop(devices.value, device.id)
    for (const certificate of certificates.value.filter((c) => c.boundDeviceIds.includes(device.deviceId))) {
      put(certificates.value, { ...certificate, boundDeviceIds: certificate.boundDeviceIds.filter((bound) => bound !== device.deviceId) })
    }
    return device
  }

  return {
    certificates,
    devices,
    rootCa,
    loading,
    loaded,
    error,
    refresh,
    issueCertificate,
    signCertificateRequest,
    renewCertificate,
    updateCertificate,
    deleteCertificate,
    revokeCertificate,
    setCrlDistributionPoint,
    bindDevices,
    unbindDevices,
    createDevice,
    updateDevice,
    regenerateDeviceKey,
    deleteDevice,
  }
})
