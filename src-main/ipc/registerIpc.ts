import type { Dispatch } from '../contract/dispatch'
import { appPageMatcher } from '../electron/windowSecurity'
import { type Envelope, IPC_CHANNEL_PREFIX, OPERATIONS, failure } from '../contract/types'

/** The parts of Electron's ipcMain and invoke event used here (structural: testable in Node). */
export interface InvokeEventLike {
  /** `parent` is set for a subframe (WebFrameMain.parent); absent or null for the top frame. */
  senderFrame: { url: string; parent?: unknown } | null
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<Envelope>): void
}

/**
 * Only the app's own top-level page may call: a page on app://certdesk, or on the dev server
 * when one is given (index.ts gives one only in an unpackaged app, see rendererDevServerUrl).
 * Anything else — an iframe, a page navigated elsewhere, file:// — is refused.
 */
export function trustedSender(devServerUrl?: string): (event: InvokeEventLike) => boolean {
  const isAppPage = appPageMatcher(devServerUrl)
  return (event) => {
    const frame = event.senderFrame
    if (!frame?.url || (frame.parent !== undefined && frame.parent !== null)) return false
    return isAppPage(frame.url)
  }
}

/** One channel per operation, `certdesk:<operation>`, each checking its sender first. */
export function registerIpcHandlers(ipcMain: IpcMainLike, dispatch: Dispatch, isTrusted: (event: InvokeEventLike) => boolean) {
  for (const operation of OPERATIONS) {
    ipcMain.handle(`${IPC_CHANNEL_PREFIX}${operation}`, async (event, ...args) => {
      if (!isTrusted(event)) return failure('FORBIDDEN', 'This page is not allowed to use Certdesk.')
      return dispatch(operation, args)
    })
  }
}
