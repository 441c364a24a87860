import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from 'js-yaml'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
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
    // The script fetches Electron with the library electron-builder itself uses; 4 and later need Node 22.
    expect(manifest.devDependencies['@electron/get']).toMatch(/^\^3\./)
    const fromProject = createRequire(join(PROJECT_ROOT, 'package.json'))
    const fromAppBuilder = createRequire(
      createRequire(fromProject.resolve('electron-builder/package.json')).resolve('app-builder-lib/package.json'),
    )
    expect(fromProject.resolve('@electron/get')).toBe(fromAppBuilder.resolve('@electron/get'))
  })
})

/** Runs scripts/dist.mjs with an empty Electron cache and the given mirror; nothing is built. */
function runDist(mirror: string, cache: string, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ELECTRON_MIRROR: mirror,
    electron_config_cache: cache,
    XDG_CACHE_HOME: cache,
    HOME: cache,
    LOCALAPPDATA: cache,
  }
  for (const name of [
    'npm_config_electron_mirror',
    'NPM_CONFIG_ELECTRON_MIRROR',
    'ELECTRON_CUSTOM_DIR',
    'npm_config_electron_custom_dir',
    'NPM_CONFIG_ELECTRON_CUSTOM_DIR',
  ]) {
    delete env[name]
  }
  // Asynchronous, so that a mirror served by this process can answer.
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'scripts/dist.mjs'), ...args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill(), 30_000)
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolvePromise({ status, stdout, stderr })
    })
  })
}

/** A local stand-in for Electron's release downloads: records each path asked for and answers `body` (else 404). */
async function localMirror(body?: Buffer): Promise<{ url: string; requested: string[]; close(): Promise<void> }> {
  const requested: string[] = []
  const server = createServer((request, response) => {
    requested.push(request.url ?? '')
    if (body === undefined) response.writeHead(404).end('Not Found')
    else response.writeHead(200, { 'content-type': 'application/zip', 'content-length': body.length }).end(body)
  })
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/`, requested, close: () => new Promise((resolveClose) => server.close(() => resolveClose())) }
}

describe('npm run dist where Electron cannot be had (the no-download path; nothing is built)', () => {
  const electronVersion = (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string }
  ).version
  let emptyCache = ''
  beforeEach(() => {
    emptyCache = mkdtempSync(join(tmpdir(), 'certdesk-dist-'))
  })
  afterEach(() => rmSync(emptyCache, { recursive: true, force: true }))

  const oneLine = (stderr: string) => {
    const lines = stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    return lines[0]
  }

  it('exits 1 with one line on stderr, before building anything', async () => {
    // Forced, so that it holds on any machine: an empty Electron cache and a mirror nobody answers.
    const result = await runDist('http://127.0.0.1:1/', emptyCache)
    expect(result.status).toBe(1)
    expect(result.stdout).toBe('')
    expect(oneLine(result.stderr)).toMatch(
      /^certdesk: the installers need Electron .*not in the Electron cache.*could not be downloaded \(.+\).*internet access.*ELECTRON_MIRROR\.$/,
    )
  })

  it('asks ELECTRON_MIRROR, through @electron/get, for the zip of each platform and architecture asked for', async () => {
    const mirror = await localMirror()
    try {
      const result = await runDist(mirror.url, emptyCache, ['--win', '--arm64'])
      expect(result.status).toBe(1)
      expect(result.stdout).toBe('')
      const zip = `electron-v${electronVersion}-win32-arm64.zip`
      expect(oneLine(result.stderr)).toContain(`(${zip})`)
      expect(result.stderr).toMatch(/404/)
      expect(mirror.requested).toEqual([`/v${electronVersion}/${zip}`])
    } finally {
      await mirror.close()
    }
  })

  it("refuses a download that does not match the electron package's checksums, offline, and caches nothing", async () => {
    const mirror = await localMirror(Buffer.from('PK\u0005\u0006 not Electron'))
    try {
      const result = await runDist(mirror.url, emptyCache, ['--linux', '--x64'])
      expect(result.status).toBe(1)
      expect(result.stdout).toBe('')
      expect(oneLine(result.stderr)).toMatch(
        /^certdesk: the installers need Electron .*did not match the checksum the electron package lists/,
      )
      // Only the zip was asked for: the checksums come from node_modules/electron, not SHASUMS256.txt.
      expect(mirror.requested).toEqual([`/v${electronVersion}/electron-v${electronVersion}-linux-x64.zip`])
      expect(readdirSync(emptyCache, { recursive: true }).filter((name) => String(name).endsWith('.zip'))).toEqual([])
    } finally {
      await mirror.close()
    }
  })
})
