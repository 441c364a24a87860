import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { CertificateView, DeviceView, RootCaView } from '../../../src-main/contract/types'
import { api } from '../api'

/** The registry as the screens see it; refreshed after every change and on main-side events. */
export const useRegistry = defineStore('registry', () => {
  const certificates = ref<CertificateView[]>([])
  const devices = ref<DeviceView[]>([])
  const rootCa = ref<RootCaView | null>(null)
  const loading = ref(false)
  /** Set once the first refresh has finished, whatever it found: until then an empty list means nothing. */
  const loaded = ref(false)
  const error = ref<string | null>(null)

  async function refresh(): Promise<void> {
    loading.value = true
    try {
      const [certificateList, deviceList, ca] = await Promise.all([api.listCertificates(), api.listDevices(), api.getRootCa()])
      certificates.value = certificateList
      devices.value = deviceList
      rootCa.value = ca
      error.value = null
    } catch (failure) {
      error.value = (failure as Error).message
    } finally {
      loading.value = false
      loaded.value = true
    }
  }

  return { certificates, devices, rootCa, loading, loaded, error, refresh }
})
