import { CertdeskError } from '../core/errors'
import { message } from '../core/messages'
import type { Workspace } from '../core/workspace'
import { type Dispatch, createDispatcher } from './dispatch'
import { type CertdeskApi, OPERATIONS, type RootCaSetup } from './types'

/** Why a front door's broker is not running on first run: there is no root CA to issue its certificate. */
export const BROKER_WAITS_FOR_ROOT_CA = message('broker.waitsForRootCa')

/**
 * The contract of a front door whose data folder has no root CA yet (the desktop app's first
 * launch, `certdesk serve` on an empty folder): `initialiseRootCa` creates it, through `initialise`,
 * which the door gives (it adds what only it knows: the keychain, who is acting) and which makes
 * the door serve the full contract from then on. Every other operation answers NOT_INITIALISED,
 * which is how the page knows to show its first-run screen. Arguments are checked as by any
 * dispatcher.
 */
export function createFirstRunDispatcher(dataDir: string, initialise: (setup: RootCaSetup) => Promise<Workspace>): Dispatch {
  const notYet = async () => {
    throw new CertdeskError('NOT_INITIALISED', message('rootCa.missing', { dataDir }))
  }
  const api = Object.fromEntries(OPERATIONS.map((operation) => [operation, notYet])) as unknown as CertdeskApi
  // Two pages may both submit: the core's folder lock lets one make the root CA, the other gets CONFLICT.
  api.initialiseRootCa = async (setup) => (await initialise(setup)).getRootCa()
  return createDispatcher(api)
}
