import { existsSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { CertdeskError } from '../core/errors'
import { type Message, message } from '../core/messages'
import { type RunningBroker, startBroker } from '../core/broker/broker'
import { readConnectionLog } from '../core/broker/connectionLog'
import { BROKER_WAITS_FOR_UNLOCK, brokerStartFailure, stoppedBrokerStatus } from '../core/broker/endpoints'
import { DEFAULT_BROKER_SETTINGS } from '../core/broker/settings'
import { watchRegistry } from '../core/registry/watchRegistry'
import { Workspace } from '../core/workspace'
import { type Dispatch, contentsOf, createDispatcher, implementApi } from '../contract/dispatch'
import { BROKER_WAITS_FOR_ROOT_CA, createFirstRunDispatcher } from '../contract/firstRun'
import type { BrokerStatus, CertdeskEvent } from '../contract/types'
import { type RunningServer, startServer } from './server'

/**
 * Where `electron-vite build` puts the renderer: the project's out/renderer, found from this
 * module's folder (src-main/serve from source, out/main/chunks in the built CLI).
 */
function builtRendererDir(): string {
  let dir = import.meta.dirname
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return join(dir, 'out', 'renderer')
}
/** How often browser mode looks for registry changes made elsewhere (a stat of the index). */
const REGISTRY_POLL_MS = 500

export interface BrowserMode {
  server: RunningServer
  broker: BrokerStatus
  close(): Promise<void>
}

/** A data folder that has no root CA yet (none at all, or empty): the page's first-run screen makes it. */
export interface EmptyFolder {
  dataDir: string
}

/**
 * `certdesk serve`: the screens in a browser, the API over loopback HTTP, and the broker. On an
 * empty folder the page opens on the first-run screen, and the broker starts once it has made the
 * root CA.
 */
export async function startBrowserMode(
  folder: Workspace | EmptyFolder,
  options: { port?: number; rendererDir?: string; broker?: boolean } = {},
): Promise<BrowserMode> {
  const rendererDir = options.rendererDir ?? builtRendererDir()
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new CertdeskError('NOT_FOUND', 'The screens are not built yet; run "npm run build" once, then try again.')
  }
  const listeners = new Set<(event: CertdeskEvent) => void>()
  const emit = (event: CertdeskEvent) => listeners.forEach((listener) => listener(event))

  let workspace: Workspace | undefined
  let broker: RunningBroker | undefined
  /** Why the broker is not running: a sentence of the catalog (which the page translates) or the broker's own. */
  let brokerError: string | Message | undefined
  const startEmbeddedBroker = async (opened: Workspace) => {
    try {
      broker = await startBroker(opened, opened.getBrokerSettings())
      brokerError = undefined
      const running = broker
      running.log.subscribe((entry) => emit({ type: 'connection', entry }))
      // The page follows sessions through these events, as the desktop app's do.
      running.onSessionsChange(() => emit({ type: 'broker', status: running.status() }))
    } catch (error) {
      brokerError = brokerStartFailure(error)
    }
  }
  const brokerStatus = (): BrokerStatus =>
    broker
      ? broker.status()
      : stoppedBrokerStatus(brokerError ?? message('broker.notInThisWindow'), workspace?.getBrokerSettings() ?? DEFAULT_BROKER_SETTINGS)

  let api: ReturnType<typeof implementApi> | undefined
  let server: RunningServer | undefined
  let dispatch: Dispatch
  let stopWatching = () => {}
  /** Serves the full contract over `opened`, starts the broker if its keys are open, and follows the registry. */
  const serve = async (opened: Workspace) => {
    workspace = opened
    api = implementApi(opened, {
      // The browser saves: the file waits behind a one-time link (`location`) that the page follows.
      offersLinks: true,
      saveFile: async (suggestedName, data, _mode, onFetched) => {
        if (!server) throw new CertdeskError('INVALID_INPUT', 'In browser mode files are downloaded by the browser.')
        const extension = extname(suggestedName)
        const contents = Buffer.from(await contentsOf(data))
        const location = server.offerDownload(
          suggestedName.slice(0, suggestedName.length - extension.length),
          extension,
          contents,
          onFetched,
        )
        return { saved: true, location }
      },
      brokerStatus,
      connectionLog: async () => (broker ? broker.log.recent() : readConnectionLog(opened.dataDir)),
      emit,
      onUnlocked: async () => {
        if (options.broker === false || broker) return
        await startEmbeddedBroker(opened)
        emit({ type: 'broker', status: brokerStatus() })
      },
    })
    dispatch = createDispatcher(api)
    // A passphrase-protected vault without --passphrase-env: the broker waits for the unlock screen.
    const vaultOpen = (await opened.getVaultState()).unlocked
    if (options.broker !== false && vaultOpen) await startEmbeddedBroker(opened)
    else if (options.broker !== false) brokerError = BROKER_WAITS_FOR_UNLOCK
    // Changes made by the CLI or another window reach this page as an event.
    stopWatching = watchRegistry(
      () => opened.snapshot(),
      REGISTRY_POLL_MS,
      () => emit({ type: 'registry' }),
    )
  }

  if (folder instanceof Workspace) await serve(folder)
  else {
    if (options.broker !== false) brokerError = BROKER_WAITS_FOR_ROOT_CA
    // The page made the root CA (with its vault open, whatever protects it): from now on the folder is served as any other.
    dispatch = createFirstRunDispatcher(folder.dataDir, async (setup) => {
      const made = await Workspace.initialise(folder.dataDir, { ...setup, actor: 'browser' })
      await serve(made)
      emit({ type: 'broker', status: brokerStatus() })
      return made
    })
  }

  let started: RunningServer
  try {
    started = server = await startServer({
      workspace: () => {
        if (!workspace) throw new CertdeskError('NOT_INITIALISED', message('rootCa.missing', { dataDir: folder.dataDir }))
        return workspace
      },
      dispatch: (operation, args) => dispatch(operation, args),
      rendererDir,
      port: options.port,
      onEvent: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    })
  } catch (error) {
    // Without its page the broker has no one to serve here: stop it rather than leave it listening.
    stopWatching()
    await api?.close()
    await broker?.close()
    throw error
  }

  return {
    server: started,
    broker: brokerStatus(),
    close: async () => {
      stopWatching()
      await api?.close()
      await started.close()
      await broker?.close()
    },
  }
}
