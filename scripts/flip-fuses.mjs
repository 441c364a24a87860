#!/usr/bin/env node
// Packaging step: flips the Electron fuses of a packaged Certdesk binary, before code signing.
//   npm run package:fuses -- <path to the packaged Electron binary, or Certdesk.app on macOS>
// The binary must already carry the app as app.asar with its integrity (electron-builder and
// Electron Forge both write it): OnlyLoadAppFromAsar and the integrity check rely on it.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fuses from '@electron/fuses'

const { FuseV1Options, FuseVersion, flipFuses } = fuses

export const FUSE_CONFIG = Object.freeze({
  version: FuseVersion.V1,
  // The broker runs as a utilityProcess, never ELECTRON_RUN_AS_NODE or child_process.fork.
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  // No NODE_OPTIONS or --inspect: nobody attaches code to the process that holds the CA key.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // The renderer comes from app://, so file:// keeps no more than a browser gives it.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
})

async function main(binary) {
  if (!binary) {
    console.error('usage: npm run package:fuses -- <packaged Electron binary or .app>')
    process.exit(2)
  }
  // Flipping changes the binary; on macOS the ad-hoc signature is redone so it still launches
  // until the real signing step.
  await flipFuses(binary, { ...FUSE_CONFIG, resetAdHocDarwinSignature: process.platform === 'darwin' })
  console.log(`Fuses flipped in ${binary}`)
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv[2])
}
