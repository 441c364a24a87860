import { CertdeskError, isCertdeskError } from '../core/errors'
import { message } from '../core/messages'
import { savedFileName } from '../core/fileNames'
import { validateCrlDays } from '../core/registry/crl'
import { parseBrokerTarget, validateInstallDir } from '../core/brokerExport/options'
import { brokerExportZip } from '../core/brokerExport/zip'
import type { KeyProtector } from '../core/store/vault'
import type { Workspace } from '../core/workspace'
import type { ProvisioningResult } from '../core/provisioning/provision'
import { readBundleZip } from '../core/bundles/deviceBundle'
import { EXPORT_FILE_EXTENSIONS, KEY_FORMATS } from '../core/bundles/certificateExports'
import { profileForRequest } from '../core/tester/profileSources'
import { runQuickTest } from '../core/tester/quickTest'
import { TesterSessions } from '../core/tester/sessions'
import { ARGUMENTS, savedTesterProfile } from './schemas'
import type {
  BrokerStatus,
  CertdeskApi,
  CertdeskEvent,
  ConnectionLogEntry,
  Envelope,
  Failure,
  OperationName,
  ProvisioningProgress,
  SaveResult,
  VaultState,
} from './types'
import { HOST_OPERATIONS, OPERATIONS, WORKSPACE_OPERATIONS, failure } from './types'

/**
 * A file to save, or what makes it once the user has chosen where: for a file whose making uses
 * something up (a CRL number), so a cancelled dialog uses nothing.
 */
export type FileContents = Buffer | string | (() => Promise<Buffer | string>)

/** How long browser mode keeps a provisioning result whose download the page may have missed. */
const UNSAVED_LINKED_RUN_MS = 10 * 60_000

export const contentsOf = async (data: FileContents): Promise<Buffer | string> => (typeof data === 'function' ? data() : data)

/** What only a front door can do: show a save dialog (Electron) and report the broker. */
export interface FrontDoor {
  /**
   * Saves a file (desktop: a save dialog) or offers it (browser: a one-time link, `location`);
   * `onFetched`, where the door can tell, once the browser has fetched it.
   */
  saveFile(suggestedName: string, data: FileContents, mode: number, onFetched?: () => void): Promise<SaveResult>
  /** Set by a door whose "saved" only offers the file behind a link (browser mode): the page may still miss it. */
  offersLinks?: boolean
  brokerStatus(): BrokerStatus
  connectionLog(): Promise<ConnectionLogEntry[]>
  /** Tells the page something it did not ask for (tester messages, say). */
  emit(event: CertdeskEvent): void
  /** The OS keychain, where this door has one (the desktop app). */
  keychain?: KeyProtector
  /** The vault was opened with this passphrase: start what waited for it (the broker). */
  onUnlocked?(passphrase: string): Promise<void>
}

type WorkspaceOperation = (typeof WORKSPACE_OPERATIONS)[number]
type HostOperation = (typeof HOST_OPERATIONS)[number]

/** What the workspace must offer for each forwarded operation: its parameters, its answer (sync or async). */
type ServesAsIs = {
  [K in WorkspaceOperation]: (...args: Parameters<CertdeskApi[K]>) => ReturnType<CertdeskApi[K]> | Awaited<ReturnType<CertdeskApi[K]>>
}

function forwardTo(workspace: Workspace): Pick<CertdeskApi, WorkspaceOperation> {
  // A type error here means a workspace method no longer takes or gives what the contract says.
  const served: ServesAsIs = workspace
  const forward =
    (name: WorkspaceOperation) =>
    async (...args: unknown[]) =>
      (served[name] as (...values: unknown[]) => unknown).apply(workspace, args)
  return Object.fromEntries(WORKSPACE_OPERATIONS.map((name) => [name, forward(name)])) as unknown as Pick<CertdeskApi, WorkspaceOperation>
}

/** The main side's implementation of the contract, over one workspace. */
export function implementApi(workspace: Workspace, frontDoor: FrontDoor): CertdeskApi & { close(): Promise<void> } {
  const withKeychain = (state: VaultState): VaultState => ({ ...state, keychainAvailable: frontDoor.keychain !== undefined })
  // The broker's log explains why it refused or dropped a tester connection.
  const sessions = new TesterSessions((event) => frontDoor.emit(event), {
    dataDir: workspace.dataDir,
    status: () => frontDoor.brokerStatus(),
  })
  // One provisioning run at a time per front door; its controller cancels it.
  let provisioning: AbortController | undefined
  /**
   * The last run's result until its zip is saved: a cancelled save dialog, or a download link the
   * browser failed to fetch, can be answered again ("Save the result…").
   */
  let unsaved: { result: ProvisioningResult; includeDeviceKeys: boolean } | undefined
  const saveProvisioning = async (run: { result: ProvisioningResult; includeDeviceKeys: boolean }): Promise<SaveResult> => {
    let saved: SaveResult = { saved: false }
    // Called once the browser has fetched the link, or when the run has waited long enough.
    const forgetRun = () => {
      if (unsaved === run) unsaved = undefined
    }
    await workspace.deliverProvisioning(run.result, run.includeDeviceKeys, {
      deliver: async (zip) => {
        saved = await frontDoor.saveFile(`provisioning-${new Date().toISOString().slice(0, 10)}.zip`, zip, 0o600, forgetRun)
        return saved.saved
      },
    })
    if (!saved.saved) unsaved = run
    else if (!frontDoor.offersLinks) unsaved = undefined
    else {
      // Only offered behind a link: kept (its keys too) until the browser has fetched it, and
      // never longer than UNSAVED_LINKED_RUN_MS.
      unsaved = run
      setTimeout(forgetRun, UNSAVED_LINKED_RUN_MS).unref()
    }
    return saved
  }
  const hosted: Pick<CertdeskApi, HostOperation> = {
    // This folder has its root CA: a first-run screen that is still open (a second page) learns so.
    initialiseRootCa: async () => {
      throw new CertdeskError('CONFLICT', message('rootCa.exists', { dataDir: workspace.dataDir }))
    },
    importRootCa: async () => {
      throw new CertdeskError('CONFLICT', message('rootCa.exists', { dataDir: workspace.dataDir }))
    },
    getVaultState: async () => withKeychain(await workspace.getVaultState()),
    unlockVault: async (passphrase) => {
      const state = await workspace.unlockVault(passphrase)
      await frontDoor.onUnlocked?.(passphrase)
      return withKeychain(state)
    },
    changeKeyProtection: async (target) => {
      if (target.kind === 'os-keychain' && !frontDoor.keychain) {
        throw new CertdeskError('INVALID_INPUT', message('vault.keychainDesktopOnly'))
      }
      const protection =
        target.kind === 'passphrase'
          ? { passphrase: target.passphrase }
          : target.kind === 'os-keychain'
            ? { keychain: frontDoor.keychain }
            : {}
      return withKeychain(await workspace.changeKeyProtection(protection))
    },
    saveDeviceBundle: async (certificateId) => {
      const certificate = workspace.getCertificate(certificateId)
      let result: SaveResult = { saved: false }
      await workspace.exportDeviceBundle(certificateId, async (zip) => {
        result = await frontDoor.saveFile(`${savedFileName(certificate.name)}.zip`, zip, 0o600)
        return result.saved
      })
      return result
    },
    saveRootCertificate: async () => frontDoor.saveFile('root_ca.crt', await workspace.rootCertificatePem(), 0o644),
    // Like the bundle: built (and refused) before the dialog opens, written to the audit log once saved.
    saveCertificateExport: async (certificateId, format, options) => {
      const certificate = workspace.getCertificate(certificateId)
      const mode = KEY_FORMATS.includes(format) ? 0o600 : 0o644
      let result: SaveResult = { saved: false }
      await workspace.exportCertificate(certificate.id, format, options, async (data) => {
        result = await frontDoor.saveFile(`${savedFileName(certificate.name)}${EXPORT_FILE_EXTENSIONS[format]}`, data, mode)
        return result.saved
      })
      return result
    },
    // Checked before the dialog, made once it has a place for the zip (a cancelled dialog uses up
    // no CRL number), and written to the audit log once saved.
    saveBrokerExport: async (target, options) => {
      const chosen = parseBrokerTarget(target)
      if (options.installDir !== undefined) validateInstallDir(options.installDir)
      const zip = async () => {
        let made: Buffer = Buffer.alloc(0)
        await workspace.exportForBroker(chosen, options, async (files) => {
          made = brokerExportZip(chosen, files)
          return false
        })
        return made
      }
      const result = await frontDoor.saveFile(`certdesk-${chosen}.zip`, zip, 0o600)
      if (result.saved) await workspace.recordBrokerExport(chosen, options.hosts ?? [])
      return result
    },
    // Made once the dialog has a place for it: a cancelled dialog uses up no CRL number.
    saveCrl: async (days) => {
      validateCrlDays(days)
      return frontDoor.saveFile('crl.pem', async () => (await workspace.generateCrl({ days })).pem, 0o644)
    },
    getBrokerStatus: async () => frontDoor.brokerStatus(),
    getConnectionLog: () => frontDoor.connectionLog(),
    runQuickTest: async (request) => runQuickTest(await profileForRequest(workspace, request), { certdeskDataDir: workspace.dataDir }),
    testerConnect: async (request) => sessions.connect(await profileForRequest(workspace, request)),
    testerDisconnect: (sessionId) => sessions.disconnect(sessionId),
    testerSubscribe: (sessionId, topicName, level) => sessions.subscribe(sessionId, topicName, level),
    testerUnsubscribe: (sessionId, topicName) => sessions.unsubscribe(sessionId, topicName),
    testerPublish: (sessionId, message) => sessions.publish(sessionId, message),
    // The page sends the file it read as base64 (JSON carries no bytes).
    readBundleZip: async (zipBase64) => readBundleZip(Buffer.from(zipBase64, 'base64')),
    // The store keeps saved requests opaque; they are parsed on the way out. One that no longer
    // parses (written by another version, or edited by hand) is left out of the list rather than
    // failing it: the others stay usable, and the stored record is left as it was.
    listTesterProfiles: async () =>
      workspace.listTesterProfiles().flatMap((record) => {
        const parsed = savedTesterProfile.safeParse(record)
        return parsed.success ? [parsed.data] : []
      }),
    saveTesterProfile: async (profileName, request) =>
      savedTesterProfile.parse(await workspace.saveTesterProfile(profileName, { ...request })),
    deleteTesterProfile: async (profileId) => savedTesterProfile.parse(await workspace.deleteTesterProfile(profileId)),
    previewProvisioning: async (csvText, options) => workspace.previewProvisioning(csvText, options),
    provisionDevices: async (csvText, { includeDeviceKeys = false, ...options }) => {
      if (provisioning) throw new CertdeskError('CONFLICT', message('provisioning.alreadyRunning'))
      const controller = new AbortController()
      provisioning = controller
      try {
        const result = await workspace.provision(csvText, {
          ...options,
          signal: controller.signal,
          onProgress: throttledProgress((progress) => frontDoor.emit({ type: 'provisioning', ...progress })),
        })
        // The registry is written: from here a cancel no longer applies.
        provisioning = undefined
        const saved = await saveProvisioning({ result, includeDeviceKeys })
        return { ...saved, counts: result.counts, rows: result.rows }
      } finally {
        if (provisioning === controller) provisioning = undefined
      }
    },
    saveProvisioningResult: async () => {
      if (!unsaved) throw new CertdeskError('NOT_FOUND', message('provisioning.nothingToSave'))
      return saveProvisioning(unsaved)
    },
    cancelProvisioning: async () => {
      const running = provisioning
      running?.abort()
      return running !== undefined
    },
  }
  return {
    ...forwardTo(workspace),
    ...hosted,
    /** Not an operation: the front door calls it on shutdown. */
    close: () => sessions.closeAll(),
  }
}

/** Progress for the page: every change of phase, and within one at most every 100 ms. */
function throttledProgress(emit: (progress: ProvisioningProgress) => void): (progress: ProvisioningProgress) => void {
  let phase = ''
  let last = 0
  return (progress) => {
    const now = Date.now()
    if (progress.phase === phase && now - last < 100 && progress.done < progress.total) return
    phase = progress.phase
    last = now
    emit(progress)
  }
}

/** Any error as a failure envelope: the core's own sentence and code, or a plain one for a bug. */
export function failureOf(error: unknown): Failure {
  if (isCertdeskError(error)) return failure(error.code, error.message, error.params, error.messageKey)
  return failure('INTERNAL', `Something went wrong inside Certdesk (${error instanceof Error ? error.message : String(error)}).`)
}

export type Dispatch = (operation: string, args: unknown) => Promise<Envelope>

/**
 * Validates an operation's name and arguments, runs it, and wraps the answer. Errors become one
 * sentence: the core's own, or a plain one for anything unexpected (never a stack trace).
 */
export function createDispatcher(api: CertdeskApi): Dispatch {
  return async (operation, args) => {
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      return failure('UNKNOWN_OPERATION', `There is no operation "${String(operation).slice(0, 60)}".`, {
        operation: String(operation).slice(0, 60),
      })
    }
    const name = operation as OperationName
    const parsed = ARGUMENTS[name].safeParse(args)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.length ? ` (at ${issue.path.join('.')})` : ''
      return failure('MALFORMED_REQUEST', `The request to ${name} was malformed${where}: ${issue?.message ?? 'invalid'}.`, {
        operation: name,
        at: issue?.path.join('.') ?? '',
      })
    }
    try {
      const run = api[name] as (...values: unknown[]) => Promise<unknown>
      return { ok: true, value: await run(...(parsed.data as unknown[])) }
    } catch (error) {
      return failureOf(error)
    }
  }
}
