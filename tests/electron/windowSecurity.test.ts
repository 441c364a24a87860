import { mkdir, writeFile } from 'node:fs/promises'
import { join, sep } from 'node:path'
import type { Session, WebContents } from 'electron'
import { beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../src-main/rendererAssets'
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  EXTERNAL_LINK_ORIGINS,
  PRIVILEGED_SCHEMES,
  WINDOW_WEB_PREFERENCES,
  appPageMatcher,
  appProtocolResponse,
  guardWebContents,
  isAllowedExternalUrl,
  permissionCheckHandler,
  permissionRequestHandler,
  rendererDevServerUrl,
  resolveAppFile,
  windowWebPreferences,
} from '../../src-main/electron/windowSecurity'
import { temporaryFolder } from '../helpers/tools'

describe('window web preferences', () => {
  it('states every security-relevant preference, as the checklist wants it', () => {
    expect(WINDOW_WEB_PREFERENCES).toEqual({
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
    })
    expect(Object.isFrozen(WINDOW_WEB_PREFERENCES)).toBe(true)
  })

  it('a window gets the policy plus its preload, nothing else', () => {
    expect(windowWebPreferences('/app/out/preload/index.cjs')).toEqual({ ...WINDOW_WEB_PREFERENCES, preload: '/app/out/preload/index.cjs' })
  })

  it('registers app:// as standard and secure, without CORS or CSP bypass', () => {
    expect(PRIVILEGED_SCHEMES).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }])
    expect(APP_ENTRY_URL).toBe('app://certdesk/index.html')
  })
})

describe('external links', () => {
  const allowed = ['https://example.com']

  it('the app links nowhere outside itself, so nothing is opened by default', () => {
    expect(EXTERNAL_LINK_ORIGINS).toEqual([])
    expect(isAllowedExternalUrl('https://example.com/')).toBe(false)
  })

  it('opens only https URLs on an allow-listed origin', () => {
    expect(isAllowedExternalUrl('https://example.com/docs?x=1#y', allowed)).toBe(true)
    expect(isAllowedExternalUrl('https://EXAMPLE.com:443/', allowed)).toBe(true)
  })

  it.each([
    'http://example.com/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'app://certdesk/index.html',
    'smb://example.com/share',
    'ms-settings:',
    'https://other.test/',
    'https://example.com.evil.test/',
    'https://evil-example.com/',
    'https://sub.example.com/',
    'https://example.com:8443/',
    'https://good@evil.test/',
    'https://example.com@evil.test/',
    'https://user:pass@example.com/',
    'not a url',
    '',
  ])('refuses %s', (url) => {
    expect(isAllowedExternalUrl(url, allowed)).toBe(false)
  })
})

describe('development server', () => {
  it.each(['http://localhost:5173/', 'http://127.0.0.1:5173/', 'http://[::1]:5173/'])('honours loopback %s when not packaged', (url) => {
    expect(rendererDevServerUrl(false, { ELECTRON_RENDERER_URL: url })).toBe(url)
  })

  it('is ignored in a packaged app, whatever it says', () => {
    expect(rendererDevServerUrl(true, { ELECTRON_RENDERER_URL: 'http://localhost:5173/' })).toBeUndefined()
  })

  it.each([
    'https://localhost:5173/',
    'http://evil.test:5173/',
    'http://localhost.evil.test/',
    'http://127.0.0.2:5173/',
    'http://user@localhost:5173/',
    'file:///tmp/index.html',
    'javascript:alert(1)',
    'not a url',
    '',
  ])('is ignored when it is not loopback http: %s', (url) => {
    expect(rendererDevServerUrl(false, { ELECTRON_RENDERER_URL: url })).toBeUndefined()
  })

  it('is absent when the variable is', () => {
    expect(rendererDevServerUrl(false, {})).toBeUndefined()
  })
})

type RequestHandler = NonNullable<Parameters<Session['setPermissionRequestHandler']>[0]>
type CheckHandler = NonNullable<Parameters<Session['setPermissionCheckHandler']>[0]>
type RequestedPermission = Parameters<RequestHandler>[1]
type CheckedPermission = Parameters<CheckHandler>[1]

describe('permissions', () => {
  const fakeContents = { id: 1, getURL: () => APP_ENTRY_URL } as unknown as WebContents
  const isAppPage = appPageMatcher()
  const request = permissionRequestHandler(isAppPage)
  const check = permissionCheckHandler(isAppPage)

  const requested = (permission: string, requestingUrl = APP_ENTRY_URL, isMainFrame = true): boolean[] => {
    const answers: boolean[] = []
    request(fakeContents, permission as RequestedPermission, (granted) => answers.push(granted), { requestingUrl, isMainFrame })
    return answers
  }

  it.each([
    'clipboard-read',
    'display-capture',
    'fullscreen',
    'geolocation',
    'idle-detection',
    'media',
    'mediaKeySystem',
    'midi',
    'midiSysex',
    'notifications',
    'pointerLock',
    'keyboardLock',
    'openExternal',
    'speaker-selection',
    'storage-access',
    'top-level-storage-access',
    'window-management',
    'unknown',
    'fileSystem',
    'hid',
    'serial',
    'usb',
    'deprecated-sync-clipboard-read',
  ])('denies %s, even to the app page', (permission) => {
    expect(requested(permission)).toEqual([false])
    expect(check(fakeContents, permission as CheckedPermission, APP_ORIGIN, { isMainFrame: true, requestingUrl: APP_ENTRY_URL })).toBe(
      false,
    )
  })

  it('grants clipboard writing (the copy buttons) to the app top-level page only', () => {
    expect(requested('clipboard-sanitized-write')).toEqual([true])
    expect(check(fakeContents, 'clipboard-sanitized-write', APP_ORIGIN, { isMainFrame: true })).toBe(true)
    expect(requested('clipboard-sanitized-write', 'https://evil.test/')).toEqual([false])
    expect(requested('clipboard-sanitized-write', APP_ENTRY_URL, false)).toEqual([false])
    expect(requested('clipboard-sanitized-write', 'http://localhost:5173/')).toEqual([false])
    expect(check(fakeContents, 'clipboard-sanitized-write', 'https://evil.test', { isMainFrame: true })).toBe(false)
    expect(check(fakeContents, 'clipboard-sanitized-write', APP_ORIGIN, { isMainFrame: false })).toBe(false)
    expect(check(null, 'clipboard-sanitized-write', 'file://', { isMainFrame: true })).toBe(false)
  })

  it('the dev server counts as the app page only when given', () => {
    const dev = permissionRequestHandler(appPageMatcher('http://localhost:5173/'))
    const answers: boolean[] = []
    dev(fakeContents, 'clipboard-sanitized-write', (granted) => answers.push(granted), {
      requestingUrl: 'http://localhost:5173/#/',
      isMainFrame: true,
    })
    expect(answers).toEqual([true])
  })
})

describe('webContents guards', () => {
  type Listener = (event: { preventDefault(): void }) => void
  type OpenHandler = (details: { url: string }) => { action: string }

  function fakeContents() {
    const listeners = new Map<string, Listener>()
    const state: { openHandler?: OpenHandler } = {}
    const contents = {
      on: (name: string, listener: Listener) => listeners.set(name, listener),
      setWindowOpenHandler: (handler: OpenHandler) => (state.openHandler = handler),
    } as unknown as WebContents
    return { contents, listeners, state }
  }

  it('prevents navigation, redirects and webviews', () => {
    const { contents, listeners } = fakeContents()
    guardWebContents(contents, { openExternal: async () => undefined })
    for (const name of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      let prevented = false
      const listener = listeners.get(name)
      expect(listener, name).toBeTypeOf('function')
      listener?.({ preventDefault: () => (prevented = true) })
      expect(prevented, name).toBe(true)
    }
  })

  it('denies every new window; only an allow-listed https URL goes to the browser', () => {
    const { contents, state } = fakeContents()
    const opened: string[] = []
    guardWebContents(contents, { openExternal: async (url) => void opened.push(url) }, ['https://example.com'])
    for (const url of [
      'https://example.com/a',
      'https://example.com.evil.test/',
      'http://example.com/',
      'file:///etc/passwd',
      'app://certdesk/',
    ]) {
      expect(state.openHandler?.({ url })).toEqual({ action: 'deny' })
    }
    expect(opened).toEqual(['https://example.com/a'])
  })

  it('with the shipped (empty) list, opens nothing', () => {
    const { contents, state } = fakeContents()
    const opened: string[] = []
    guardWebContents(contents, { openExternal: async (url) => void opened.push(url) })
    expect(state.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' })
    expect(opened).toEqual([])
  })
})

describe('app:// protocol', () => {
  let root: string
  let rendererDir: string

  beforeAll(async () => {
    root = await temporaryFolder()
    rendererDir = join(root, 'renderer')
    await mkdir(join(rendererDir, 'assets'), { recursive: true })
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Certdesk</title>')
    await writeFile(join(rendererDir, 'assets', 'index-abc.js'), 'export {}')
    await writeFile(join(rendererDir, 'assets', 'index-abc.css'), 'body{}')
    await writeFile(join(rendererDir, 'assets', 'logo.svg'), '<svg/>')
    await writeFile(join(root, 'secret.txt'), 'not for the page')
  })

  it('serves index.html for the root', () => {
    for (const url of [
      'app://certdesk/',
      'app://certdesk',
      'app://certdesk/index.html',
      'app://certdesk/#/devices',
      'app://certdesk/?x=1',
    ]) {
      expect(resolveAppFile(url, rendererDir), url).toBe(join(rendererDir, 'index.html'))
    }
    expect(resolveAppFile('app://certdesk/assets/index-abc.js', rendererDir)).toBe(join(rendererDir, 'assets', 'index-abc.js'))
  })

  it('never leaves the renderer folder', () => {
    // The URL parser folds plain and %2e dot segments away: what is left is inside the folder.
    for (const url of [
      'app://certdesk/../../etc/passwd',
      'app://certdesk/%2e%2e/%2E%2e/secret.txt',
      'app://certdesk/assets/../../secret.txt',
    ]) {
      const file = resolveAppFile(url, rendererDir)
      expect(file === undefined || file.startsWith(rendererDir + sep), url).toBe(true)
    }
    // Separators and dot segments hidden from the parser are refused outright.
    for (const url of [
      'app://certdesk/..%2f..%2fsecret.txt',
      'app://certdesk/%2e%2e%2fsecret.txt',
      'app://certdesk/..%5csecret.txt',
      'app://certdesk/..\\..\\secret.txt',
      'app://certdesk/assets\\..\\..\\secret.txt',
      'app://certdesk/%2fetc%2fpasswd',
      'app://certdesk/index.html%00.js',
      'app://certdesk/C:%5cWindows%5cwin.ini',
      'app://certdesk/%E0%A4%A',
      'app://evil/index.html',
      'app://certdesk@evil/index.html',
      'file:///etc/passwd',
      'https://certdesk/index.html',
    ]) {
      expect(resolveAppFile(url, rendererDir), url).toBeUndefined()
    }
  })

  it('answers with the file, its type, nosniff, and the CSP header on the page', async () => {
    const page = await appProtocolResponse(new Request('app://certdesk/'), rendererDir)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await page.text()).toContain('<title>Certdesk</title>')

    const types = {
      'assets/index-abc.js': 'text/javascript; charset=utf-8',
      'assets/index-abc.css': 'text/css; charset=utf-8',
      'assets/logo.svg': 'image/svg+xml',
    }
    for (const [path, type] of Object.entries(types)) {
      const response = await appProtocolResponse(new Request(`app://certdesk/${path}`), rendererDir)
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type'), path).toBe(type)
    }
  })

  it('refuses traversal (403), missing files (404, no fallback) and writes (405)', async () => {
    const refused = await appProtocolResponse(new Request('app://certdesk/..%2f..%2fsecret.txt'), rendererDir)
    expect(refused.status).toBe(403)
    expect(await refused.text()).not.toContain('not for the page')
    expect((await appProtocolResponse(new Request('app://certdesk/../secret.txt'), rendererDir)).status).toBe(404)
    expect((await appProtocolResponse(new Request('app://certdesk/assets'), rendererDir)).status).toBe(404)
    expect((await appProtocolResponse(new Request('app://certdesk/nope.js'), rendererDir)).status).toBe(404)
    expect((await appProtocolResponse(new Request('app://certdesk/index.html', { method: 'POST', body: 'x' }), rendererDir)).status).toBe(
      405,
    )
  })
})
