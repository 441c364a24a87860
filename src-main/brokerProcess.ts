/**
 * The embedded broker's home in the desktop app: an Electron utility process, so a connection
 * storm never competes with the window's event loop. It reads the same data folder as the app
 * and the CLI and follows their changes the same way (by watching the index).
 */
import { isCertdeskError } from './core/errors'
import { type RunningBroker, startBroker } from './core/broker/broker'
import { Workspace } from './core/workspace'
import type { ConnectionLogEntry } from './core/broker/types'
import type { BrokerStatus } from './contract/types'

/** `vaultKey`: the unlocked vault key (base64) from the main process, which opened the vault. */
type ParentMessage = { type: 'start'; dataDir: string; vaultKey: string } | { type: 'stop' }

/** What this process tells the main process. */
export type BrokerProcessMessage =
  | { type: 'log'; entry: ConnectionLogEntry }
  | ({ type: 'state' } & Omit<BrokerStatus, 'sessions'> & { code?: string })

let running: RunningBroker | undefined

function post(message: BrokerProcessMessage): void {
  process.parentPort.postMessage(message)
}

async function start(dataDir: string, vaultKey: Buffer): Promise<void> {
  try {
    const workspace = await Workspace.open(dataDir, { key: vaultKey, actor: 'app' })
    const settings = workspace.brokerSettings()
    running = await startBroker(workspace, settings)
    running.log.subscribe((entry) => post({ type: 'log', entry }))
    post({
      type: 'state',
      state: 'running',
      host: running.host,
      oneWay: running.oneWay,
      mutual: running.mutual,
      serverCertificate: running.serverCertificate,
    })
  } catch (error) {
    // The window shows this sentence; a locked vault or a missing CA is the usual cause.
    const message = isCertdeskError(error) ? error.message : `The broker could not start: ${String(error)}`
    const code = isCertdeskError(error) ? error.code : 'UNEXPECTED'
    post({ type: 'state', state: 'stopped', error: message, code })
  }
}

process.parentPort.on('message', (event: { data: ParentMessage }) => {
  const message = event.data
  if (message.type === 'start' && !running) void start(message.dataDir, Buffer.from(message.vaultKey, 'base64'))
  if (message.type === 'stop') {
    void (running?.close() ?? Promise.resolve()).then(() => {
      running = undefined
      post({ type: 'state', state: 'stopped' })
      process.exit(0)
    })
  }
})
