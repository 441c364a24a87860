import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../helpers/tools'

// Source-level guards: the window's policy lives in src-main/electron/windowSecurity.ts (unit
// tested there); these fail when the main process goes around it.

const MAIN = join(PROJECT_ROOT, 'src-main/index.ts')
const SECURITY_MODULE = join(PROJECT_ROOT, 'src-main/electron/windowSecurity.ts')

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

/** The code without comments, so a comment can neither satisfy nor trip a guard. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

/** The argument text of each `callee(` call, up to its matching parenthesis. */
function callArguments(source: string, callee: string): string[] {
  const found: string[] = []
  for (let start = source.indexOf(callee); start !== -1; start = source.indexOf(callee, start + 1)) {
    let depth = 0
    for (let index = start + callee.length - 1; index < source.length; index++) {
      if (source[index] === '(') depth++
      if (source[index] === ')' && --depth === 0) {
        found.push(source.slice(start + callee.length, index))
        break
      }
    }
  }
  return found
}

const SECURITY_KEYS = [
  'contextIsolation',
  'sandbox',
  'nodeIntegration',
  'nodeIntegrationInWorker',
  'nodeIntegrationInSubFrames',
  'webSecurity',
  'allowRunningInsecureContent',
  'experimentalFeatures',
  'webviewTag',
  'spellcheck',
  'navigateOnDragDrop',
  'safeDialogs',
]

describe('Electron main process security', () => {
  const main = code(MAIN)
  const allMain = sourceFiles(join(PROJECT_ROOT, 'src-main'))

  it('every window takes its webPreferences from windowWebPreferences() and overrides none', () => {
    const windows = allMain.flatMap((file) =>
      callArguments(code(file), 'new BrowserWindow(').map((args) => ({ file: relative(PROJECT_ROOT, file), args })),
    )
    expect(windows.length).toBeGreaterThan(0)
    for (const { file, args } of windows) {
      expect(args, file).toMatch(/webPreferences:\s*windowWebPreferences\(/)
      expect(args.match(/webPreferences/g), file).toHaveLength(1)
      const outside = args.replace(/windowWebPreferences\([^)]*\)/, '')
      for (const key of SECURITY_KEYS) expect(outside, `${file}: ${key}`).not.toMatch(new RegExp(`\\b${key}\\b`))
    }
    // Nor are they changed after the fact.
    for (const file of allMain.filter((file) => file !== SECURITY_MODULE)) {
      expect(code(file), relative(PROJECT_ROOT, file)).not.toMatch(/webPreferences\s*[.[]|getLastWebPreferences/)
    }
  })

  it('opens external URLs only in windowSecurity, behind the allow-list', () => {
    const callers = allMain.filter((file) => /openExternal/.test(code(file))).map((file) => relative(PROJECT_ROOT, file))
    expect(callers).toEqual(['src-main/electron/windowSecurity.ts'])
    const calls = code(SECURITY_MODULE)
      .split('\n')
      .filter((line) => line.includes('openExternal('))
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatch(/if \(isAllowedExternalUrl\(url, allowedOrigins\)\) void shell\.openExternal\(url\)/)
  })

  it('loads the renderer from app://, never file://, and the dev server only through rendererDevServerUrl', () => {
    expect(main).not.toMatch(/loadFile\(|file:\/\/|pathToFileURL/)
    expect(main).toMatch(/loadURL\(devServerUrl \?\? APP_ENTRY_URL\)/)
    expect(main).toMatch(/rendererDevServerUrl\(app\.isPackaged, process\.env\)/)
    expect(main).not.toMatch(/ELECTRON_RENDERER_URL/)
    expect(main).toMatch(/protocol\.registerSchemesAsPrivileged\(\[\.\.\.PRIVILEGED_SCHEMES\]\)/)
    expect(main).toMatch(/protocol\.handle\(APP_SCHEME, \(request\) => appProtocolResponse\(request, rendererDir\)\)/)
    expect(main).toMatch(/trustedSender\(devServerUrl\)/)
  })

  it('wires the sandbox, the permission handlers and the guards of every webContents', () => {
    expect(main).toMatch(/app\.enableSandbox\(\)/)
    // Before ready: both calls are at the top level, ahead of whenReady.
    expect(main.indexOf('app.enableSandbox()')).toBeLessThan(main.indexOf('app.whenReady()'))
    expect(main.indexOf('registerSchemesAsPrivileged')).toBeLessThan(main.indexOf('app.whenReady()'))
    expect(main).toMatch(/session\.defaultSession\.setPermissionRequestHandler\(permissionRequestHandler\(isAppPage\)\)/)
    expect(main).toMatch(/session\.defaultSession\.setPermissionCheckHandler\(permissionCheckHandler\(isAppPage\)\)/)
    expect(main).toMatch(/app\.on\('web-contents-created', \(_event, contents\) => guardWebContents\(contents, shell\)\)/)
    // No handler elsewhere that could open what the guards close.
    for (const file of allMain.filter((file) => file !== SECURITY_MODULE)) {
      expect(code(file), relative(PROJECT_ROOT, file)).not.toMatch(
        /setWindowOpenHandler|setPermission(Request|Check)Handler\((?!permission)|'will-(navigate|redirect|attach-webview)'/,
      )
    }
  })

  it('the policy module imports only types from electron, so it is tested in plain Node', () => {
    const imports = code(SECURITY_MODULE).match(/^import .* from 'electron'$/gm) ?? []
    expect(imports.length).toBe(1)
    expect(imports[0]).toMatch(/^import type /)
  })
})
