#!/usr/bin/env node
// `npm start`: builds and launches the desktop app. Dependency install scripts are off (see
// .npmrc), so the Electron binary is fetched here, the first time, instead of at install.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const electronDir = join(root, 'node_modules', 'electron')

function electronBinaryPresent() {
  const pathFile = join(electronDir, 'path.txt')
  return existsSync(pathFile) && existsSync(join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim()))
}

if (!existsSync(electronDir)) {
  console.error('certdesk: the electron package is not installed; run "npm install" first.')
  process.exit(1)
}

if (!electronBinaryPresent()) {
  console.log('Fetching the Electron binary (first start only)...')
  const env = { ...process.env }
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD
  const fetched = spawnSync(process.execPath, [join(electronDir, 'install.js')], {
    cwd: electronDir,
    env,
    stdio: 'ignore',
    timeout: 600_000,
  })
  if (fetched.status !== 0 || !electronBinaryPresent()) {
    console.error(
      'certdesk: the Electron binary could not be downloaded (this machine cannot reach its download server); ' +
        'run the same screens in a browser instead: npx certdesk serve.',
    )
    process.exit(1)
  }
}

const cli = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js')
const launched = spawnSync(process.execPath, [cli, 'preview'], { cwd: root, stdio: 'inherit' })
process.exit(launched.status ?? 1)
