#!/usr/bin/env node
// `npm run dist [-- electron-builder options]`: the desktop installers (electron-builder.yml),
// built into dist/. By default for this computer's OS and architecture (Linux: AppImage and deb;
// Windows: NSIS; macOS: dmg); `-- --linux`, `--win`, `--mac`, `--arm64`… choose others.
//
// electron-builder packs the app into Electron's prebuilt binary, one zip per platform and
// architecture. Before building anything this script gets those zips with @electron/get, the
// library electron-builder and Electron's own install script (`npm start`) get them with: from the
// Electron cache when they are there (checked against the checksums the electron package ships,
// so that needs no network), else downloaded into it from Electron's releases or $ELECTRON_MIRROR
// (@electron/get reads the mirror settings itself). electron-builder then takes them from the
// cache (`electronDist`) and downloads no Electron of its own. When a zip cannot be had the script
// says so in one sentence and exits 1, rather than failing minutes later in the middle of a build.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const PLATFORM_FLAGS = { linux: ['--linux', '-l'], win32: ['--win', '-w', '--windows'], darwin: ['--mac', '-m', '-o', '--macos'] }
const ARCHES = ['x64', 'ia32', 'armv7l', 'arm64', 'universal']
/** No answer within these, and the download counts as failed (got's timeouts, per attempt). */
const DOWNLOAD_TIMEOUTS_MS = { lookup: 10_000, connect: 10_000, secureConnect: 10_000, response: 30_000, socket: 60_000 }

function fail(sentence) {
  console.error(`certdesk: ${sentence}`)
  process.exit(1)
}

/** The Electron builds this build needs: one per platform and architecture asked for. */
function wantedTargets(args) {
  const platforms = Object.keys(PLATFORM_FLAGS).filter((platform) => PLATFORM_FLAGS[platform].some((flag) => args.includes(flag)))
  const hostArch = process.arch === 'arm' ? 'armv7l' : process.arch
  const arches = ARCHES.filter((arch) => args.includes(`--${arch}`))
  return (platforms.length > 0 ? platforms : [process.platform]).flatMap((platform) =>
    // A universal macOS app is made from the x64 and the arm64 builds.
    (arches.length > 0 ? arches : [hostArch])
      .flatMap((arch) => (arch === 'universal' ? ['x64', 'arm64'] : [arch]))
      .map((arch) => ({ platform, arch })),
  )
}

/** An error's message on one line, without its final full stop, to go inside a sentence. */
function cause(error) {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/\s+/g, ' ').trim().replace(/\.$/, '') || 'no reason given'
}

function run(script, args) {
  const result = spawnSync(process.execPath, [join(root, 'node_modules', script), ...args], { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const args = process.argv.slice(2)
const electronDir = join(root, 'node_modules', 'electron')
const needed = [
  join(electronDir, 'package.json'),
  join(electronDir, 'checksums.json'),
  join(root, 'node_modules', 'electron-builder'),
  join(root, 'node_modules', '@electron', 'get'),
]
if (!needed.every((path) => existsSync(path))) {
  fail('the installers need the project\'s dependencies installed; run "npm install" first.')
}
const { version } = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8'))

const builderArgs = [...args]
if (!args.includes('--publish') && !args.includes('-p')) builderArgs.push('--publish', 'never')

// An electronDist given on the command line is the caller's Electron: nothing to fetch.
if (!args.some((arg) => /^(--config|-c)\.electronDist(=|$)/.test(arg))) {
  const { downloadArtifact } = await import('@electron/get')
  // The same list Electron's install script checks its download against.
  const checksums = JSON.parse(readFileSync(join(electronDir, 'checksums.json'), 'utf8'))
  const folders = new Set()
  for (const { platform, arch } of wantedTargets(args)) {
    const zip = `electron-v${version}-${platform}-${arch}.zip`
    try {
      const file = await downloadArtifact({
        version,
        artifactName: 'electron',
        platform,
        arch,
        checksums,
        // As Electron's install script does: electron_config_cache, else the OS's cache folder.
        cacheRoot: process.env.electron_config_cache || undefined,
        downloadOptions: { timeout: DOWNLOAD_TIMEOUTS_MS },
      })
      folders.add(dirname(file))
    } catch (error) {
      fail(
        /checksum/i.test(cause(error))
          ? `the installers need Electron ${version}'s prebuilt binary (${zip}), and the copy downloaded did not match the checksum the electron package lists (${cause(error)}); run npm run dist again, or check ELECTRON_MIRROR.`
          : `the installers need Electron ${version}'s prebuilt binary (${zip}), which is not in the Electron cache and could not be downloaded ` +
              `(${cause(error)}); run npm run dist where there is internet access to Electron's release downloads or a reachable ELECTRON_MIRROR.`,
      )
    }
  }
  // One cache folder per download address, so every build of this version sits in the same one
  // and electron-builder picks each platform's zip from it by name. Should they ever differ,
  // electron-builder fetches them itself (they are in the cache now).
  if (folders.size === 1) builderArgs.push(`--config.electronDist=${[...folders][0]}`)
}

run(join('electron-vite', 'bin', 'electron-vite.js'), ['build'])
run(join('electron-builder', 'cli.js'), builderArgs)
