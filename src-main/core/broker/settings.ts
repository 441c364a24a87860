import { isIP } from 'node:net'
import { invalidInput } from '../errors'
import type { RegistryStore } from '../store/registryStore'
import type { BrokerSettings } from '../store/schema'
import { validateServerName } from './serverCertificate'

export const DEFAULT_BROKER_SETTINGS: BrokerSettings = {
  host: '127.0.0.1',
  oneWayPort: 8883,
  mutualPort: 8884,
  extraNames: [],
}

export function validatePort(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw invalidInput(`The ${what} port must be a whole number from 1 to 65535.`)
  }
  return value
}

export function brokerSettings(store: RegistryStore): BrokerSettings {
  return { ...DEFAULT_BROKER_SETTINGS, ...store.read().broker?.settings }
}

/** Saved settings: what the desktop app's broker uses, and `certdesk broker`'s defaults. */
export async function updateBrokerSettings(store: RegistryStore, update: Partial<BrokerSettings>): Promise<BrokerSettings> {
  if (update.host !== undefined && !isIP(update.host) && update.host !== 'localhost') {
    throw invalidInput(`"${update.host}" is not an address to listen on; give an IP address such as 127.0.0.1.`)
  }
  if (update.oneWayPort !== undefined) validatePort(update.oneWayPort, 'one-way')
  if (update.mutualPort !== undefined) validatePort(update.mutualPort, 'mutual')
  update.extraNames?.forEach(validateServerName)
  return store.mutate((data) => {
    const settings = { ...DEFAULT_BROKER_SETTINGS, ...data.broker?.settings, ...update }
    if (settings.oneWayPort === settings.mutualPort) {
      throw invalidInput(`The one-way and mutual ports must differ (both are ${settings.oneWayPort}).`)
    }
    data.broker = { ...data.broker, settings }
    return settings
  })
}
