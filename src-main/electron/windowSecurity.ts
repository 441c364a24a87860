// The desktop window's security policy. Types only from 'electron', so it runs (and is tested)
// in plain Node without the Electron binary; src-main/index.ts wires it in.
import { readFile } from 'node:fs/promises'
import type { CustomScheme, Session, Shell, WebContents, WebPreferences } from 'electron'
import { rendererFileHeaders, resolveRendererFile } from '../rendererAssets'

/** The built renderer is served as app://certdesk/, a standard secure origin, never file://. */
export const APP_SCHEME = 'app'
const APP_HOST = 'certdesk'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`

/**
 * Registered before `ready`. No corsEnabled: other origins cannot read app:// responses; no
 * bypassCSP: the page's policy applies to it like to any other.
 */
export const PRIVILEGED_SCHEMES: readonly CustomScheme[] = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]

/** Every security-relevant web preference, stated rather than left to Electron's defaults. */
export const WINDOW_WEB_PREFERENCES = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  spellcheck: false,
  navigateOnDragDrop: false,
  safeDialogs: true,
} as const satisfies WebPreferences)

/** The only web preferences a window gets: the fixed policy plus the preload script. */
export function windowWebPreferences(preload: string): WebPreferences {
  return { ...WINDOW_WEB_PREFERENCES, preload }
}

/**
 * Origins the page may open in the user's browser. Empty: the screens link nowhere outside the
 * app. A link added to the renderer needs its https origin here, exactly (no wildcards).
 */
export const EXTERNAL_LINK_ORIGINS: readonly string[] = []

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

/** https only, no user-info (`https://good@evil.test`), origin exactly on the list. */
export function isAllowedExternalUrl(url: string, allowedOrigins: readonly string[] = EXTERNAL_LINK_ORIGINS): boolean {
  const parsed = parseUrl(url)
  if (!parsed || parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return false
  return allowedOrigins.includes(parsed.origin)
}

/**
 * Same scheme, host and port, and no user-info. Compared by parts because Node's URL gives
 * "null" as the origin of a custom scheme such as app:.
 */
function isOnOrigin(url: string, origin: string): boolean {
  const page = parseUrl(url)
  const expected = parseUrl(origin)
  if (!page || !expected || page.username !== '' || page.password !== '') return false
  return page.protocol === expected.protocol && page.host !== '' && page.host === expected.host
}

/** The app's own page: app://certdesk, or the development server when one is in use. */
export function appPageMatcher(devServerUrl?: string): (url: string) => boolean {
  return (url) => isOnOrigin(url, APP_ORIGIN) || (devServerUrl !== undefined && isOnOrigin(url, devServerUrl))
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/**
 * electron-vite's dev server (ELECTRON_RENDERER_URL), honoured only in an unpackaged app and
 * only on loopback http: in a shipped app the variable must not point the window, and its
 * IPC trust, at another page.
 */
export function rendererDevServerUrl(isPackaged: boolean, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (isPackaged) return undefined
  const parsed = parseUrl(env.ELECTRON_RENDERER_URL ?? '')
  if (!parsed || parsed.protocol !== 'http:' || parsed.username !== '' || parsed.password !== '') return undefined
  return LOOPBACK_HOSTS.has(parsed.hostname) ? parsed.href : undefined
}

type PermissionRequestHandler = NonNullable<Parameters<Session['setPermissionRequestHandler']>[0]>
type PermissionCheckHandler = NonNullable<Parameters<Session['setPermissionCheckHandler']>[0]>

/** The copy buttons use navigator.clipboard.writeText, which Chromium gates behind this. */
const GRANTED_PERMISSION = 'clipboard-sanitized-write'

/** Denies every permission, except clipboard writing to the app's own top-level page. */
export function permissionRequestHandler(isAppPage: (url: string) => boolean): PermissionRequestHandler {
  return (_contents, permission, callback, details) =>
    callback(permission === GRANTED_PERMISSION && details.isMainFrame && isAppPage(details.requestingUrl))
}

/** The check side of the same rule (Chromium checks before it asks). */
export function permissionCheckHandler(isAppPage: (url: string) => boolean): PermissionCheckHandler {
  return (_contents, permission, requestingOrigin, details) =>
    permission === GRANTED_PERMISSION && details.isMainFrame && isAppPage(requestingOrigin)
}

/**
 * For every webContents: no navigation or redirect away from the loaded page (the router uses
 * the hash), no webviews, no new windows; an allow-listed https link goes to the browser.
 */
export function guardWebContents(
  contents: WebContents,
  shell: Pick<Shell, 'openExternal'>,
  allowedOrigins: readonly string[] = EXTERNAL_LINK_ORIGINS,
): void {
  const prevent = (event: { preventDefault(): void }) => event.preventDefault()
  contents.on('will-navigate', prevent)
  contents.on('will-frame-navigate', prevent)
  contents.on('will-redirect', prevent)
  contents.on('will-attach-webview', prevent)
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url, allowedOrigins)) void shell.openExternal(url).catch(() => undefined)
    return { action: 'deny' }
  })
}

/**
 * The file under `rendererDir` that an app:// URL names, or undefined when the URL is refused:
 * another scheme or host, user-info, or a path that resolveRendererFile refuses (an undecodable
 * escape, dot segments, separators, NUL or `:` hidden in a segment). The root is index.html.
 */
export function resolveAppFile(requestUrl: string, rendererDir: string): string | undefined {
  const url = parseUrl(requestUrl)
  if (!url || url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST || url.username !== '' || url.password !== '') return undefined
  return resolveRendererFile(url.pathname, rendererDir)
}

/** The protocol.handle('app') handler: files of the built renderer, nothing else (no fallback). */
export async function appProtocolResponse(request: Request, rendererDir: string): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return new Response('Method not allowed.', { status: 405 })
  const file = resolveAppFile(request.url, rendererDir)
  if (!file) return new Response('Refused.', { status: 403 })
  let body: Buffer
  try {
    body = await readFile(file)
  } catch {
    return new Response('Not found.', { status: 404 })
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers: rendererFileHeaders(file) })
}
