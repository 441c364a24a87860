#!/usr/bin/env node
// Runs the CLI built by `npm run build` (out/main/cli.js, plain JavaScript) while it is current
// (see cliBuild.mjs). Otherwise it runs the TypeScript source through tsx, as before there was a
// build, with one line on stderr saying why and how to rebuild: a developer who edited src-main
// never runs the old code. CERTDESK_FROM_SOURCE=1 always runs the source, without that line.
import { pathToFileURL } from 'node:url'
import { BUILT_CLI, cliBuildStaleBecause } from './cliBuild.mjs'

const fromSource = process.env.CERTDESK_FROM_SOURCE === '1'
const stale = fromSource ? 'CERTDESK_FROM_SOURCE=1' : cliBuildStaleBecause()
if (stale === undefined) {
  // A file URL: an absolute Windows path (C:\…) is not a module specifier.
  await import(pathToFileURL(BUILT_CLI).href)
} else {
  if (!fromSource) process.stderr.write(`certdesk: running from source (slower start): ${stale}; run "npm run build" to start fast.\n`)
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src-main/cli/index.ts')
}
