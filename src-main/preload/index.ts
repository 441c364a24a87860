import { contextBridge } from 'electron'

// The renderer gets named functions only, never ipcRenderer itself. The typed API per domain
// arrives with the screens; for now the page only learns it runs inside the desktop shell.
contextBridge.exposeInMainWorld('certdesk', {
  shell: 'electron',
})
