import type { BrokerSettings } from '../store/schema'
import type { BrokerStatus, ClientEndpoints } from './types'

/** Bind addresses a client cannot dial as they are: it dials this machine by name instead. */
const LOCAL_BIND_ADDRESSES = new Set(['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'])

/**
 * The host a client should use for a broker bound to `bindHost`: `localhost` for the wildcard and
 * loopback addresses (it is also a name in the server certificate), else the address itself.
 * The one rule for the tester, the device page's examples and the endpoints shown.
 */
export function clientHostFor(bindHost: string): string {
  return LOCAL_BIND_ADDRESSES.has(bindHost) ? 'localhost' : bindHost
}

export function clientEndpoints(settings: Pick<BrokerSettings, 'host' | 'oneWayPort' | 'mutualPort'>): ClientEndpoints {
  return { host: clientHostFor(settings.host), oneWayPort: settings.oneWayPort, mutualPort: settings.mutualPort }
}

/** Why a front door's broker is not running yet: the vault is passphrase-protected and locked. */
export const BROKER_WAITS_FOR_UNLOCK = 'The broker starts when the keys are unlocked.'

/** A broker that is not running here, with the reason and where it would listen. */
export function stoppedBrokerStatus(error: string, settings: Pick<BrokerSettings, 'host' | 'oneWayPort' | 'mutualPort'>): BrokerStatus {
  return { state: 'stopped', error, sessions: [], endpoints: clientEndpoints(settings) }
}
