import { join } from 'node:path'
import { BrowserWindow, type UtilityProcess, app, shell, utilityProcess } from 'electron'

// One window per desk: a second launch focuses the first instead of opening the store twice.
if (!app.requestSingleInstanceLock()) {
  app.quit()
}

let mainWindow: BrowserWindow | null = null
let broker: UtilityProcess | null = null

/** The embedded broker runs in its own utility process on the app's data folder. */
function startBrokerProcess(): void {
  broker = utilityProcess.fork(join(import.meta.dirname, 'brokerProcess.js'), [], { serviceName: 'Certdesk broker' })
  broker.postMessage({ type: 'start', dataDir: process.env.CERTDESK_HOME || app.getPath('userData') })
  broker.on('exit', () => (broker = null))
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    title: 'Certdesk',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  })
  window.once('ready-to-show', () => window.show())
  // The renderer never navigates away or opens windows; links to the web go to the browser.
  window.webContents.on('will-navigate', (event) => event.preventDefault())
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  if (process.env.ELECTRON_RENDERER_URL) {
    void window.loadURL(process.env.ELECTRON_RENDERER_URL)
  } else {
    void window.loadFile(join(import.meta.dirname, '../renderer/index.html'))
  }
  return window
}

app.on('second-instance', () => {
  if (!mainWindow) return
  if (mainWindow.isMinimized()) mainWindow.restore()
  mainWindow.focus()
})

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault())
})

void app.whenReady().then(() => {
  mainWindow = createMainWindow()
  startBrokerProcess()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow()
  })
})

app.on('before-quit', () => broker?.postMessage({ type: 'stop' }))

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
