import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../helpers/tools'

// The installers' configuration, read as electron-builder reads it, checked without building.

interface BuilderConfig {
  appId?: string
  productName?: string
  directories?: { buildResources?: string; output?: string }
  files?: string[]
  asar?: boolean
  npmRebuild?: boolean
  electronFuses?: Record<string, boolean>
  linux?: { target?: string[]; maintainer?: string; category?: string }
  win?: { target?: string[] }
  nsis?: { deleteAppDataOnUninstall?: boolean }
  mac?: { target?: string[]; category?: string }
}

const config = load(readFileSync(join(PROJECT_ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig

/**
 * Every fuse the installed @electron/fuses knows (its FuseV1Options), named as electron-builder
 * names them in `electronFuses` (RunAsNode → runAsNode). Taken from the copy electron-builder
 * itself loads (a dependency of its app-builder-lib), so an upgrade that adds a fuse fails here
 * until electron-builder.yml decides it.
 */
function knownFuseNames(): string[] {
  const fromProject = createRequire(join(PROJECT_ROOT, 'package.json'))
  const fromBuilder = createRequire(fromProject.resolve('electron-builder/package.json'))
  const fromAppBuilder = createRequire(fromBuilder.resolve('app-builder-lib/package.json'))
  const { FuseV1Options } = fromAppBuilder('@electron/fuses') as { FuseV1Options: Record<string, string | number> }
  return Object.keys(FuseV1Options)
    .filter((name) => typeof FuseV1Options[name] === 'number')
    .map((name) => name[0].toLowerCase() + name.slice(1))
}

/** Width and height from a PNG's IHDR chunk, or null when the file is not a PNG. */
function pngSize(file: string): { width: number; height: number } | null {
  const data = readFileSync(file)
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  if (!data.subarray(0, 8).equals(signature) || data.toString('ascii', 12, 16) !== 'IHDR') return null
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) }
}

describe('electron-builder configuration (electron-builder.yml)', () => {
  it('names the app as the data folder expects', () => {
    expect(config.productName).toBe('Certdesk')
    expect(config.appId).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i)
    expect(config.directories?.output).toBe('dist')
  })

  it('builds AppImage and deb on Linux, NSIS on Windows, dmg on macOS', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb'])
    expect(config.linux?.maintainer).toMatch(/^.+ <[^@\s]+@[^@\s]+>$/)
    expect(config.linux?.category).toBeTruthy()
    expect(config.win?.target).toEqual(['nsis'])
    expect(config.mac?.target).toEqual(['dmg'])
    // Uninstalling must never take the root CA and the device keys with it.
    expect(config.nsis?.deleteAppDataOnUninstall).toBe(false)
  })

  it('sets the security fuses securely: no run-as-Node, NODE_OPTIONS or --inspect; cookie encryption; only an integrity-checked app.asar; no extra file:// privileges', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    })
  })

  it("decides every fuse electron-builder's @electron/fuses knows, none left to Electron's default, and names no other", () => {
    const fuses = config.electronFuses ?? {}
    const known = knownFuseNames()
    expect(known).toContain('runAsNode')
    expect(known.filter((name) => typeof fuses[name] !== 'boolean')).toEqual([])
    expect(Object.keys(fuses).filter((name) => !known.includes(name))).toEqual([])
  })

  it('ships the built app and its manifest in app.asar: no sources, tests or source maps', () => {
    const files = config.files ?? []
    expect(config.asar).toBe(true)
    // Only these two are taken from the project: src-main, src-renderer, tests, bench, scripts stay out.
    expect(files.filter((pattern) => !pattern.startsWith('!'))).toEqual(['out/**', 'package.json'])
    // The exclusions also filter the production node_modules electron-builder adds.
    expect(files).toContain('!**/*.map')
    expect(files).toContain('!**/{test,tests,__tests__}/**')
    // Nothing to rebuild: Certdesk has no native module.
    expect(config.npmRebuild).toBe(false)
  })

  it('takes its build resources from resources/, with an icon of at least 512 px', () => {
    expect(config.directories?.buildResources).toBe('resources')
    const icon = join(PROJECT_ROOT, 'resources', 'icon.png')
    expect(existsSync(icon)).toBe(true)
    const size = pngSize(icon)
    expect(size).not.toBeNull()
    expect(size!.width).toBeGreaterThanOrEqual(512)
    expect(size!.height).toBe(size!.width)
    // The per-OS icons are there too, so no build has to download a converter.
    expect(readFileSync(join(PROJECT_ROOT, 'resources', 'icon.icns')).toString('ascii', 0, 4)).toBe('icns')
    expect([...readFileSync(join(PROJECT_ROOT, 'resources', 'icon.ico')).subarray(0, 4)]).toEqual([0, 0, 1, 0])
    const linuxIcons = readdirSync(join(PROJECT_ROOT, 'resources', 'icons'))
    expect(linuxIcons.length).toBeGreaterThan(0)
    for (const name of linuxIcons) {
      const side = Number(/^(\d+)x\1\.png$/.exec(name)?.[1])
      expect(pngSize(join(PROJECT_ROOT, 'resources', 'icons', name)), name).toEqual({ width: side, height: side })
    }
  })

  it('is what npm run dist uses', () => {
    const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
      devDependencies: Record<string, string>
    }
    expect(manifest.scripts.dist).toBe('node scripts/dist.mjs')
    expect(manifest.devDependencies['electron-builder']).toBeDefined()
  })
})

describe('npm run dist where Electron cannot be had (the no-download path; nothing is built)', () => {
  it('exits 1 with one line on stderr, before building anything', () => {
    // Forced, so that it holds on any machine: an empty Electron cache and a mirror nobody answers.
    const emptyCache = mkdtempSync(join(tmpdir(), 'certdesk-dist-'))
    try {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ELECTRON_MIRROR: 'http://127.0.0.1:1/',
        electron_config_cache: emptyCache,
        XDG_CACHE_HOME: emptyCache,
        HOME: emptyCache,
        LOCALAPPDATA: emptyCache,
      }
      for (const name of ['npm_config_electron_mirror', 'NPM_CONFIG_ELECTRON_MIRROR']) delete env[name]
      const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts/dist.mjs')], {
        cwd: PROJECT_ROOT,
        env,
        encoding: 'utf8',
        timeout: 30_000,
      })
      expect(result.error).toBeUndefined()
      expect(result.status).toBe(1)
      expect(result.stdout).toBe('')
      const lines = result.stderr.trimEnd().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^certdesk: the installers need Electron .*internet access.*ELECTRON_MIRROR.*Electron cache/)
    } finally {
      rmSync(emptyCache, { recursive: true, force: true })
    }
  })
})
