import { CertdeskError } from '../core/errors'
import { message } from '../core/messages'
import type { ImportedCaInput } from '../core/pki/importedCa'
import type { Workspace } from '../core/workspace'
import { type Dispatch, createDispatcher } from './dispatch'
import { type CertdeskApi, OPERATIONS, type RootCaImportSetup, type RootCaSetup } from './types'

/** What a door's `initialise` is given: a root CA to generate, or (`imported`) an existing one to bring in. */
export type FirstRunSetup = RootCaSetup & { imported?: ImportedCaInput }

/** Why a front door's broker is not running on first run: there is no root CA to issue its certificate. */
export const BROKER_WAITS_FOR_ROOT_CA = message('broker.waitsForRootCa')

/**
 * The contract of a front door whose data folder has no root CA yet (the desktop app's first
 * launch, `certdesk serve` on an empty folder): `initialiseRootCa` (or `importRootCa`) creates it, through `initialise`,
 * which the door gives (it adds what only it knows: the keychain, who is acting) and which makes
 * the door serve the full contract from then on. Every other operation answers NOT_INITIALISED,
 * which is how the page knows to show its first-run screen. Arguments are checked as by any
 * dispatcher.
 */
export function createFirstRunDispatcher(dataDir: string, initialise: (setup: FirstRunSetup) => Promise<Workspace>): Dispatch {
  const notYet = async () => {
    throw new CertdeskError('NOT_INITIALISED', message('rootCa.missing', { dataDir }))
  }
  const api = Object.fromEntries(OPERATIONS.map((operation) => [operation, notYet])) as unknown as CertdeskApi
  // Two pages may both submit: the core's folder lock lets one make the root CA, the other gets CONFLICT.
  api.initialiseRootCa = async (setup) => (await initialise(setup)).getRootCa()
  // Secrets otherwise stay in the main process and never reach the page; here the page hands
  // over, once, the CA key the user chose to bring in (and the passphrases that open it). The
  // core checks it, seals it in the new vault like a generated key, and no operation returns it.
  api.importRootCa = async (setup) => (await initialise({ passphrase: setup.passphrase, imported: importedCa(setup) })).getRootCa()
  return createDispatcher(api)
}

function importedCa(setup: RootCaImportSetup): ImportedCaInput {
  if (setup.kind === 'pkcs12') return { pkcs12: Buffer.from(setup.pkcs12Base64, 'base64'), pkcs12Passphrase: setup.pkcs12Passphrase }
  return { certificatePem: setup.certificatePem, privateKeyPem: setup.privateKeyPem, keyPassphrase: setup.keyPassphrase }
}
