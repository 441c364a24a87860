import { isCertdeskError } from '../errors'
import { type Message, message, renderMessage } from '../messages'
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
export const BROKER_WAITS_FOR_UNLOCK = message('broker.waitsForUnlock')

/**
 * A broker that is not running here, with the reason and where it would listen. The reason is
 * a sentence of the catalog (`message('broker.stopped')`), which a screen translates, or a
 * sentence of the front door's own.
 */
export function stoppedBrokerStatus(
  error: string | Message,
  settings: Pick<BrokerSettings, 'host' | 'oneWayPort' | 'mutualPort'>,
): BrokerStatus {
  const said = typeof error === 'string' ? { error } : { error: renderMessage(error), errorMessage: error }
  return { state: 'stopped', ...said, sessions: [], endpoints: clientEndpoints(settings) }
}

/** Why the broker did not start, for its status: the core's own sentence by key, or the error as it came. */
export function brokerStartFailure(error: unknown): Message | string {
  if (!isCertdeskError(error)) return message('broker.couldNotStart', { error: String(error) })
  return error.messageKey ? { key: error.messageKey, ...(error.params ? { params: error.params } : {}) } : error.message
}
