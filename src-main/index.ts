import { join } from 'node:path'
import { BrowserWindow, type UtilityProcess, app, dialog, ipcMain, protocol, safeStorage, session, shell, utilityProcess } from 'electron'
import ElectronStore from 'electron-store'
import { isCertdeskError } from './core/errors'
import { message } from './core/messages'
import { readConnectionLog } from './core/broker/connectionLog'
import { BROKER_WAITS_FOR_UNLOCK, stoppedBrokerStatus } from './core/broker/endpoints'
import { DEFAULT_BROKER_SETTINGS } from './core/broker/settings'
import { writeExportFile } from './core/store/files'
import type { KeyProtector } from './core/store/vault'
import { watchRegistry } from './core/registry/watchRegistry'
import { Workspace } from './core/workspace'
import { type Dispatch, contentsOf, createDispatcher, implementApi } from './contract/dispatch'
import { BROKER_WAITS_FOR_ROOT_CA, createFirstRunDispatcher } from './contract/firstRun'
import { type BrokerStatus, type CertdeskEvent, IPC_EVENT_CHANNEL } from './contract/types'
import { registerIpcHandlers, trustedSender } from './ipc/registerIpc'
import type { BrokerProcessMessage } from './brokerProcess'
import { osKeychain } from './electron/keychain'
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  PRIVILEGED_SCHEMES,
  appPageMatcher,
  appProtocolResponse,
  guardWebContents,
  permissionCheckHandler,
  permissionRequestHandler,
  rendererDevServerUrl,
  windowWebPreferences,
} from './electron/windowSecurity'

// One window per desk: a second launch focuses the first instead of opening the store twice.
if (!app.requestSingleInstanceLock()) {
  app.quit()
}

// Every renderer sandboxed, whatever a window asks for; the app:// scheme must exist before ready.
app.enableSandbox()
protocol.registerSchemesAsPrivileged([...PRIVILEGED_SCHEMES])

const rendererDir = join(import.meta.dirname, '../renderer')
/** electron-vite's dev server: never in a packaged app, and only on loopback. */
const devServerUrl = rendererDevServerUrl(app.isPackaged, process.env)
const isAppPage = appPageMatcher(devServerUrl)
let mainWindow: BrowserWindow | null = null
let broker: UtilityProcess | null = null
let closeApi: (() => Promise<void>) | undefined
let brokerStatus: BrokerStatus = stoppedBrokerStatus(message('broker.starting'), DEFAULT_BROKER_SETTINGS)

/** Window size and other preferences: electron-store's own file, apart from the registry. */
const preferences = new ElectronStore<{ bounds?: { width: number; height: number } }>({ name: 'preferences' })

function send(event: CertdeskEvent): void {
  mainWindow?.webContents.send(IPC_EVENT_CHANNEL, event)
}

/**
 * The embedded broker runs in its own utility process on the app's data folder. It cannot reach
 * the OS keychain, and a passphrase is typed into this process's window, so it gets the vault key
 * itself over the process's own message port once the vault is open here.
 */
function startBrokerProcess(dataDir: string, vaultKey: Buffer): void {
  if (broker) return
  broker = utilityProcess.fork(join(import.meta.dirname, 'brokerProcess.js'), [], { serviceName: 'Certdesk broker' })
  broker.on('message', (message: BrokerProcessMessage) => {
    if (message.type === 'log') send({ type: 'connection', entry: message.entry })
    if (message.type === 'status') {
      brokerStatus = message.status
      send({ type: 'broker', status: brokerStatus })
    }
  })
  broker.postMessage({ type: 'start', dataDir, vaultKey: vaultKey.toString('base64') })
  broker.on('exit', () => (broker = null))
}

/** The folder's workspace, or undefined on first launch (no root CA yet: the first-run screen makes it). */
async function openWorkspace(dataDir: string, keychain: KeyProtector | undefined): Promise<Workspace | undefined> {
  try {
    return await Workspace.open(dataDir, { actor: 'app', keychain })
  } catch (error) {
    if (isCertdeskError(error) && error.code === 'NOT_INITIALISED') return undefined
    throw error
  }
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: preferences.get('bounds')?.width ?? 1280,
    height: preferences.get('bounds')?.height ?? 820,
    show: false,
    title: 'Certdesk',
    webPreferences: windowWebPreferences(join(import.meta.dirname, '../preload/index.cjs')),
  })
  window.once('ready-to-show', () => window.show())
  window.on('close', () => preferences.set('bounds', window.getBounds()))
  void window.loadURL(devServerUrl ?? APP_ENTRY_URL)
  return window
}

app.on('second-instance', () => {
  if (!mainWindow) return
  if (mainWindow.isMinimized()) mainWindow.restore()
  mainWindow.focus()
})

// Navigation, redirects, new windows and webviews are refused in every webContents.
app.on('web-contents-created', (_event, contents) => guardWebContents(contents, shell))

void app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler(permissionRequestHandler(isAppPage))
  session.defaultSession.setPermissionCheckHandler(permissionCheckHandler(isAppPage))
  protocol.handle(APP_SCHEME, (request) => appProtocolResponse(request, rendererDir))
  const dataDir = process.env.CERTDESK_HOME || app.getPath('userData')
  const keychain = osKeychain(safeStorage)
  let workspace: Workspace | undefined
  try {
    workspace = await openWorkspace(dataDir, keychain)
  } catch (error) {
    // A damaged or foreign data folder: say so in one sentence rather than crash.
    dialog.showErrorBox('Certdesk cannot open its data folder', isCertdeskError(error) ? error.message : String(error))
    app.quit()
    return
  }
  let dispatch: Dispatch
  /** Serves the contract over `opened`, starts the broker if its keys are open, and follows the registry. */
  const serve = async (opened: Workspace) => {
    const api = implementApi(opened, {
      saveFile: async (suggestedName, data, mode) => {
        // The certificate's own name, in any script (core/fileNames.ts savedFileName).
        const options = { defaultPath: suggestedName }
        const choice = await (mainWindow ? dialog.showSaveDialog(mainWindow, options) : dialog.showSaveDialog(options))
        if (choice.canceled || !choice.filePath) return { saved: false }
        await writeExportFile(choice.filePath, await contentsOf(data), mode, true)
        return { saved: true, location: choice.filePath }
      },
      brokerStatus: () => brokerStatus,
      connectionLog: () => readConnectionLog(dataDir),
      emit: send,
      keychain,
      // The unlock screen opened a passphrase-protected vault: the broker waited for it.
      onUnlocked: async () => startBrokerProcess(dataDir, await opened.vaultKeyForBrokerProcess()),
    })
    closeApi = api.close
    dispatch = createDispatcher(api)
    // A key file or the OS keychain opens now; a passphrase waits for the unlock screen.
    if ((await opened.getVaultState()).unlocked) startBrokerProcess(dataDir, await opened.vaultKeyForBrokerProcess())
    else brokerStatus = stoppedBrokerStatus(BROKER_WAITS_FOR_UNLOCK, opened.getBrokerSettings())
    // Changes made by the CLI reach the screens as they happen.
    watchRegistry(
      () => opened.snapshot(),
      500,
      () => send({ type: 'registry' }),
    )
  }
  if (workspace) await serve(workspace)
  else {
    // First launch: the first-run screen chooses the root CA. Without a passphrase its vault key
    // is wrapped by the OS keychain (a key file where the OS has none); Authority changes it later.
    brokerStatus = stoppedBrokerStatus(BROKER_WAITS_FOR_ROOT_CA, DEFAULT_BROKER_SETTINGS)
    dispatch = createFirstRunDispatcher(dataDir, async (setup) => {
      const made = await Workspace.initialise(dataDir, {
        ...setup,
        actor: 'app',
        keychain: setup.passphrase === undefined ? keychain : undefined,
      })
      await serve(made)
      send({ type: 'broker', status: brokerStatus })
      return made
    })
  }
  registerIpcHandlers(ipcMain, (operation, args) => dispatch(operation, args), trustedSender(devServerUrl))
  mainWindow = createMainWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow()
  })
})

/** How long a quit waits for the broker process to write its last log batch and exit. */
const BROKER_STOP_WAIT_MS = 5_000
let stoppedForQuit = false

// Electron ends utility processes when the app exits: the quit waits for the broker process to
// close (which writes the connection log's pending batch) and exit, then quits again.
app.on('before-quit', (event) => {
  if (stoppedForQuit) return
  event.preventDefault()
  stoppedForQuit = true
  const running = broker
  const brokerExited = running
    ? new Promise<void>((resolve) => {
        running.once('exit', () => resolve())
        running.postMessage({ type: 'stop' })
        setTimeout(resolve, BROKER_STOP_WAIT_MS)
      })
    : Promise.resolve()
  void Promise.allSettled([brokerExited, closeApi?.()]).then(() => app.quit())
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
