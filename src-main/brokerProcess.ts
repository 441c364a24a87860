/**
 * The embedded broker's home in the desktop app: an Electron utility process, so a connection
 * storm never competes with the window's event loop. It reads the same data folder as the app
 * and the CLI and follows their changes the same way (by watching the index).
 */
import { message } from './core/messages'
import { type RunningBroker, startBroker } from './core/broker/broker'
import { Workspace } from './core/workspace'
import { brokerStartFailure, stoppedBrokerStatus } from './core/broker/endpoints'
import type { BrokerStatus, ConnectionLogEntry } from './core/broker/types'
import { DEFAULT_BROKER_SETTINGS } from './core/broker/settings'

/** `vaultKey`: the unlocked vault key (base64) from the main process, which opened the vault. */
type ParentMessage = { type: 'start'; dataDir: string; vaultKey: string } | { type: 'stop' }

/** What this process tells the main process. */
export type BrokerProcessMessage =
  | { type: 'log'; entry: ConnectionLogEntry }
  /** The broker's own status, sent when it starts or stops and whenever sessions come and go. */
  | { type: 'status'; status: BrokerStatus }

let running: RunningBroker | undefined

function post(message: BrokerProcessMessage): void {
  process.parentPort.postMessage(message)
}

let settings = DEFAULT_BROKER_SETTINGS

async function start(dataDir: string, vaultKey: Buffer): Promise<void> {
  try {
    const workspace = await Workspace.open(dataDir, { key: vaultKey, actor: 'app' })
    settings = workspace.getBrokerSettings()
    const broker = await startBroker(workspace, settings)
    running = broker
    broker.log.subscribe((entry) => post({ type: 'log', entry }))
    broker.onSessionsChange(() => post({ type: 'status', status: broker.status() }))
    post({ type: 'status', status: broker.status() })
  } catch (error) {
    // The window shows this sentence; a locked vault or a missing CA is the usual cause.
    post({ type: 'status', status: stoppedBrokerStatus(brokerStartFailure(error), settings) })
  }
}

process.parentPort.on('message', (event: { data: ParentMessage }) => {
  const request = event.data
  if (request.type === 'start' && !running) void start(request.dataDir, Buffer.from(request.vaultKey, 'base64'))
  if (request.type === 'stop') {
    void (running?.close() ?? Promise.resolve()).then(() => {
      running = undefined
      post({ type: 'status', status: stoppedBrokerStatus(message('broker.stopped'), settings) })
      process.exit(0)
    })
  }
})
