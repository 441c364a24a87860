#!/usr/bin/env node
// `npm run dist [-- electron-builder options]`: the desktop installers (electron-builder.yml),
// built into dist/. By default for this computer's OS and architecture (Linux: AppImage and deb;
// Windows: NSIS; macOS: dmg); `-- --linux`, `--win`, `--mac`, `--arm64`… choose others.
//
// electron-builder packs the app into Electron's prebuilt binary, which it takes from a zip that
// @electron/get downloads and caches. Before building anything, this script makes sure that zip
// can be had: already in the Electron cache (`npm start` puts it there), or downloadable from
// Electron's releases or $ELECTRON_MIRROR (a 5-second probe). When it cannot be had it says so in
// one sentence and exits 1, rather than failing minutes later in the middle of a download.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PROBE_TIMEOUT_MS = 5_000
const DEFAULT_MIRROR = 'https://github.com/electron/electron/releases/download/'

const PLATFORM_FLAGS = { linux: ['--linux', '-l'], win32: ['--win', '-w', '--windows'], darwin: ['--mac', '-m', '-o', '--macos'] }
const ARCHES = ['x64', 'ia32', 'armv7l', 'arm64', 'universal']

function fail(sentence) {
  console.error(`certdesk: ${sentence}`)
  process.exit(1)
}

/** The Electron zips this build needs: one per platform and architecture asked for. */
function wantedZips(args, version) {
  const platforms = Object.keys(PLATFORM_FLAGS).filter((platform) => PLATFORM_FLAGS[platform].some((flag) => args.includes(flag)))
  const hostArch = process.arch === 'arm' ? 'armv7l' : process.arch
  const arches = ARCHES.filter((arch) => args.includes(`--${arch}`))
  return (platforms.length > 0 ? platforms : [process.platform]).flatMap((platform) =>
    // A universal macOS app is made from the x64 and the arm64 builds.
    (arches.length > 0 ? arches : [hostArch])
      .flatMap((arch) => (arch === 'universal' ? ['x64', 'arm64'] : [arch]))
      .map((arch) => `electron-v${version}-${platform}-${arch}.zip`),
  )
}

/** Where @electron/get keeps its downloads (and so Electron's own install script, `npm start`). */
function electronCacheRoots() {
  const home = homedir()
  const platformDefault =
    process.platform === 'darwin'
      ? join(home, 'Library', 'Caches', 'electron')
      : process.platform === 'win32'
        ? join(process.env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'electron', 'Cache')
        : join(process.env.XDG_CACHE_HOME || join(home, '.cache'), 'electron')
  return [process.env.electron_config_cache, platformDefault].filter(Boolean)
}

/** The folder holding `zip` in the Electron cache (one folder per download URL), or null. */
function cachedZipFolder(zip) {
  for (const cacheRoot of electronCacheRoots()) {
    if (existsSync(join(cacheRoot, zip))) return cacheRoot
    if (!existsSync(cacheRoot)) continue
    for (const entry of readdirSync(cacheRoot, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(cacheRoot, entry.name, zip))) return join(cacheRoot, entry.name)
    }
  }
  return null
}

function mirrorSetting(name) {
  const snake = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()
  return process.env[`npm_config_electron_${snake}`] || process.env[`NPM_CONFIG_ELECTRON_${snake.toUpperCase()}`] || process.env[`ELECTRON_${snake.toUpperCase()}`]
}

/** Whether the zip's download URL answers within the probe's time (as @electron/get builds it). */
async function downloadable(zip, version) {
  const base = mirrorSetting('mirror') || DEFAULT_MIRROR
  const folder = (mirrorSetting('customDir') || `v${version}`).replace('{{ version }}', version)
  try {
    const response = await fetch(`${base}${folder}/${zip}`, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
    return response.ok
  } catch {
    return false
  }
}

function run(script, args) {
  const result = spawnSync(process.execPath, [join(root, 'node_modules', script), ...args], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const args = process.argv.slice(2)
const electronManifest = join(root, 'node_modules', 'electron', 'package.json')
if (!existsSync(electronManifest) || !existsSync(join(root, 'node_modules', 'electron-builder'))) {
  fail('the installers need the project\'s dependencies installed; run "npm install" first.')
}
const { version } = JSON.parse(readFileSync(electronManifest, 'utf8'))
const zips = wantedZips(args, version)
const cached = zips.map(cachedZipFolder)

const builderArgs = [...args]
if (!args.includes('--publish') && !args.includes('-p')) builderArgs.push('--publish', 'never')
if (zips.length === 1 && cached[0] !== null) {
  // One Electron, already here: build from it and download nothing.
  builderArgs.push(`--config.electronDist=${cached[0]}`)
} else if (!cached.every(Boolean) && !(await downloadable(zips.find((_, index) => !cached[index]), version))) {
  fail(
    `the installers need Electron ${version}'s prebuilt binary (${zips.join(', ')}), and this machine can neither ` +
      "download it (no internet access to Electron's release downloads, nor a reachable ELECTRON_MIRROR) " +
      `nor find it in the Electron cache (${electronCacheRoots().at(-1)}); run npm run dist where one of these is possible.`,
  )
}

run(join('electron-vite', 'bin', 'electron-vite.js'), ['build'])
run(join('electron-builder', 'cli.js'), builderArgs)
