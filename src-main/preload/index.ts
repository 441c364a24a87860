import { contextBridge, ipcRenderer } from 'electron'
import { type CertdeskEvent, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, OPERATIONS } from '../contract/types'

// One named function per operation, never ipcRenderer itself: the page can ask for exactly
// what the contract lists, and the main side validates each call again.
const operations = Object.fromEntries(
  OPERATIONS.map((operation) => [operation, (...args: unknown[]) => ipcRenderer.invoke(`${IPC_CHANNEL_PREFIX}${operation}`, ...args)]),
)

contextBridge.exposeInMainWorld('certdesk', {
  ...operations,
  onEvent(listener: (event: CertdeskEvent) => void): () => void {
    const handler = (_event: unknown, payload: CertdeskEvent) => listener(payload)
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler)
    return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler)
  },
})
