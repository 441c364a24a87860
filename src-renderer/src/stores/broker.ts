import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { BrokerStatus, ClientEndpoints } from '../../../src-main/contract/types'
import { api, onEvent } from '../api'

/**
 * The embedded broker as every screen sees it: one status, kept current by the main side's
 * `broker` events, so no view guesses ports or asks on its own. Until the first answer
 * `endpoints` is null and a screen shows that it is waiting rather than a made-up port.
 */
export const useBroker = defineStore('broker', () => {
  const status = ref<BrokerStatus | null>(null)
  const loaded = ref(false)
  let listening = false
  let pending: Promise<void> | undefined

  /** Asks once (again only with `force`), and starts following the main side's broker events. */
  function load(force = false): Promise<void> {
    if (!listening) {
      listening = true
      onEvent((event) => {
        if (event.type === 'broker') status.value = event.status
      })
    }
    if (pending && !force) return pending
    pending = api
      .getBrokerStatus()
      .then((answer) => {
        status.value = answer
      })
      .catch(() => {
        status.value = null
      })
      .finally(() => {
        loaded.value = true
      })
    return pending
  }

  /** Where a client dials: host and the two ports, from the broker's own settings. */
  const endpoints = computed<ClientEndpoints | null>(() => status.value?.endpoints ?? null)

  return { status, loaded, endpoints, load }
})
