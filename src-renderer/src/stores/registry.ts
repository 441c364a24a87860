import { defineStore } from 'pinia'
import { type ShallowRef, computed, ref, shallowRef } from 'vue'
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
 *
 * The lists are shallow: with 10,000 certificates and devices, deep reactivity would wrap every
 * item and every array in it, and each sort or search would go through those wrappers. A change
 * replaces the list (and the changed items) instead; nothing changes an item in place.
 */
export const useRegistry = defineStore('registry', () => {
  const certificates = shallowRef<readonly CertificateView[]>([])
  const devices = shallowRef<readonly DeviceView[]>([])
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

  /** Replaces the list with one where `item` takes its own place (or comes last, if new). */
  function put<T extends { id: string }>(list: ShallowRef<readonly T[]>, item: T): void {
    const index = list.value.findIndex((entry) => entry.id === item.id)
    list.value = index === -1 ? [...list.value, item] : list.value.with(index, item)
  }
  function drop<T extends { id: string }>(list: ShallowRef<readonly T[]>, id: string): void {
    if (list.value.some((entry) => entry.id === id)) list.value = list.value.filter((entry) => entry.id !== id)
  }
  /** A certificate as the core returned it, in the list, with its devices' side of the bindings. */
  function placeCertificate(certificate: CertificateView): CertificateView {
    put(certificates, certificate)
    followBindings(certificate)
    return certificate
  }
  /** The devices' side of a certificate's bindings, from the certificate as the core returned it (one new list, if any changed). */
  function followBindings(certificate: CertificateView): void {
    const bound = new Set(certificate.boundDeviceIds)
    let changed = false
    const next = devices.value.map((device) => {
      const listed = device.certificateIds.includes(certificate.id)
      if (bound.has(device.deviceId) === listed) return device
      changed = true
      return listed
        ? { ...device, certificateIds: device.certificateIds.filter((id) => id !== certificate.id) }
        : { ...device, certificateIds: [...device.certificateIds, certificate.id] }
    })
    if (changed) devices.value = next
  }
  /** A device without its key: the key is handed to the caller once and never kept here. */
  const withoutKey = ({ deviceKey: _key, ...device }: DeviceWithKey): DeviceView => device

  async function issueCertificate(input: DeviceCertificateInput): Promise<CertificateView> {
    const certificate = await api.issueDeviceCertificate(input)
    return placeCertificate(certificate)
  }
  /** A certificate for a device's own key; the answer also says what the request asked for. */
  async function signCertificateRequest(input: CertificateRequestInput): Promise<SignedRequest> {
    const signed = await api.signCertificateRequest(input)
    placeCertificate(signed.certificate)
    return signed
  }
  /** The successor, and the old certificate as renewal left it (renamed, perhaps revoked). */
  async function renewCertificate(id: string, options: RenewOptions): Promise<CertificateView> {
    const certificate = await api.renewCertificate(id, options)
    put(certificates, await api.getCertificate(id))
    return placeCertificate(certificate)
  }
  async function updateCertificate(id: string, changes: CertificateUpdate): Promise<CertificateView> {
    const certificate = await api.updateCertificate(id, changes)
    put(certificates, certificate)
    return certificate
  }
  /** Final: the certificate stays listed, revoked (and disabled). */
  async function revokeCertificate(id: string, reason: RevocationReason): Promise<CertificateView> {
    const certificate = await api.revokeCertificate(id, reason)
    put(certificates, certificate)
    return certificate
  }
  /** The CA settings (the CRL distribution point) as the core returned them. */
  async function setCrlDistributionPoint(url: string | null): Promise<RootCaView> {
    rootCa.value = await api.setCrlDistributionPoint(url)
    return rootCa.value
  }
  async function deleteCertificate(id: string): Promise<CertificateView> {
    const certificate = await api.deleteCertificate(id)
    drop(certificates, certificate.id)
    followBindings({ ...certificate, boundDeviceIds: [] })
    return certificate
  }
  async function bindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView> {
    const certificate = await api.bindDevices(certificateId, deviceIds)
    return placeCertificate(certificate)
  }
  async function unbindDevices(certificateId: string, deviceIds: string[]): Promise<CertificateView> {
    const certificate = await api.unbindDevices(certificateId, deviceIds)
    return placeCertificate(certificate)
  }
  /** The new device, with its key for the caller to show once. */
  async function createDevice(input: DeviceInput): Promise<DeviceWithKey> {
    const created = await api.createDevice(input)
    put(devices, withoutKey(created))
    return created
  }
  async function updateDevice(id: string, changes: DeviceUpdate): Promise<DeviceView> {
    const device = await api.updateDevice(id, changes)
    put(devices, device)
    return device
  }
  /** The new device key, for the caller to show; the old one stops working at once. */
  async function regenerateDeviceKey(id: string): Promise<string> {
    const renewed = await api.regenerateDeviceKey(id)
    put(devices, withoutKey(renewed))
    return renewed.deviceKey
  }
  /** Deleting a device removes its bindings: its certificates lose it too. */
  async function deleteDevice(id: string): Promise<DeviceView> {
    const device = await api.deleteDevice(id)
    drop(devices, device.id)
    if (certificates.value.some((c) => c.boundDeviceIds.includes(device.deviceId))) {
      certificates.value = certificates.value.map((c) =>
        c.boundDeviceIds.includes(device.deviceId)
          ? { ...c, boundDeviceIds: c.boundDeviceIds.filter((bound) => bound !== device.deviceId) }
          : c,
      )
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
