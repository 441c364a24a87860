import type { Dispatch } from '../contract/dispatch'
import { type Envelope, IPC_CHANNEL_PREFIX, OPERATIONS } from '../contract/types'

/** The parts of Electron's ipcMain and invoke event used here (structural: testable in Node). */
export interface InvokeEventLike {
  senderFrame: { url: string } | null
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<Envelope>): void
}

/**
 * Only the app's own page may call: the built renderer's file, or the dev server in
 * development. Anything else — an iframe, a page navigated elsewhere — is refused.
 */
export function trustedSender(rendererFileUrl: string, devServerUrl?: string): (event: InvokeEventLike) => boolean {
  const devOrigin = devServerUrl ? new URL(devServerUrl).origin : undefined
  return (event) => {
    const url = event.senderFrame?.url
    if (!url) return false
    if (url === rendererFileUrl || url.startsWith(`${rendererFileUrl}#`)) return true
    return devOrigin !== undefined && new URL(url).origin === devOrigin
  }
}

/** One channel per operation, `certdesk:<operation>`, each checking its sender first. */
export function registerIpcHandlers(ipcMain: IpcMainLike, dispatch: Dispatch, isTrusted: (event: InvokeEventLike) => boolean) {
  for (const operation of OPERATIONS) {
    ipcMain.handle(`${IPC_CHANNEL_PREFIX}${operation}`, async (event, ...args) => {
      if (!isTrusted(event)) return { ok: false, error: 'This page is not allowed to use Certdesk.' }
      return dispatch(operation, args)
    })
  }
}
