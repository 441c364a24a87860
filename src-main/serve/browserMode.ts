import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CertdeskError, isCertdeskError } from '../core/errors'
import { type RunningBroker, startBroker } from '../core/broker/broker'
import { readConnectionLog } from '../core/broker/connectionLog'
import { BROKER_WAITS_FOR_UNLOCK, stoppedBrokerStatus } from '../core/broker/endpoints'
import { watchRegistry } from '../core/registry/watchRegistry'
import type { Workspace } from '../core/workspace'
import { createDispatcher, implementApi } from '../contract/dispatch'
import type { BrokerStatus, CertdeskEvent } from '../contract/types'
import { type RunningServer, startServer } from './server'

/** Where `electron-vite build` puts the renderer. */
const BUILT_RENDERER_DIR = join(import.meta.dirname, '..', '..', 'out', 'renderer')
/** How often browser mode looks for registry changes made elsewhere (a stat of the index). */
const REGISTRY_POLL_MS = 500

export interface BrowserMode {
  server: RunningServer
  broker: BrokerStatus
  close(): Promise<void>
}

/** `certdesk serve`: the screens in a browser, the API over loopback HTTP, and the broker. */
export async function startBrowserMode(
  workspace: Workspace,
  options: { port?: number; rendererDir?: string; broker?: boolean } = {},
): Promise<BrowserMode> {
  const rendererDir = options.rendererDir ?? BUILT_RENDERER_DIR
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new CertdeskError('NOT_FOUND', 'The screens are not built yet; run "npm run build" once, then try again.')
  }
  const listeners = new Set<(event: CertdeskEvent) => void>()
  const emit = (event: CertdeskEvent) => listeners.forEach((listener) => listener(event))

  let broker: RunningBroker | undefined
  let brokerError: string | undefined
  const startEmbeddedBroker = async () => {
    try {
      broker = await startBroker(workspace, workspace.getBrokerSettings())
      brokerError = undefined
      const running = broker
      running.log.subscribe((entry) => emit({ type: 'connection', entry }))
      // The page follows sessions through these events, as the desktop app's do.
      running.onSessionsChange(() => emit({ type: 'broker', status: running.status() }))
    } catch (error) {
      brokerError = isCertdeskError(error) ? error.message : `The broker could not start (${String(error)}).`
    }
  }
  // A passphrase-protected vault without --passphrase-env: the broker waits for the unlock screen.
  const vaultOpen = (await workspace.getVaultState()).unlocked
  if (options.broker !== false && vaultOpen) await startEmbeddedBroker()
  else if (options.broker !== false) brokerError = BROKER_WAITS_FOR_UNLOCK
  const brokerStatus = (): BrokerStatus =>
    broker
      ? broker.status()
      : stoppedBrokerStatus(brokerError ?? 'The broker is not running in this window.', workspace.getBrokerSettings())

  const api = implementApi(workspace, {
    saveFile: async () => {
      throw new CertdeskError('INVALID_INPUT', 'In browser mode files are downloaded by the browser.')
    },
    brokerStatus,
    connectionLog: async () => (broker ? broker.log.recent() : readConnectionLog(workspace.dataDir)),
    emit,
    onUnlocked: async () => {
      if (options.broker === false || broker) return
      await startEmbeddedBroker()
      emit({ type: 'broker', status: brokerStatus() })
    },
  })
  let server: RunningServer
  try {
    server = await startServer({
      workspace,
      dispatch: createDispatcher(api),
      rendererDir,
      port: options.port,
      onEvent: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    })
  } catch (error) {
    // Without its page the broker has no one to serve here: stop it rather than leave it listening.
    await api.close()
    await broker?.close()
    throw error
  }

  // Changes made by the CLI or another window reach this page as an event.
  const stopWatching = watchRegistry(
    () => workspace.snapshot(),
    REGISTRY_POLL_MS,
    () => emit({ type: 'registry' }),
  )

  return {
    server,
    broker: brokerStatus(),
    close: async () => {
      stopWatching()
      await api.close()
      await server.close()
      await broker?.close()
    },
  }
}
