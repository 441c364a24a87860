// Whether the CLI built by `npm run build` is current. The build writes out/main/cli.stamp.json
// (electron.vite.config.ts, cliStamp): when it started, and the project's source files the CLI
// is made of. The build is current while none of them is newer: about 85 stat calls, 0.3–0.4 ms
// measured. Used by bin/certdesk.mjs at every start and by the tests' global set-up.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const PROJECT_ROOT = join(import.meta.dirname, '..')
export const BUILT_CLI = join(PROJECT_ROOT, 'out', 'main', 'cli.js')

/** Why the built CLI must not be run (one clause), or undefined when it is current. */
export function cliBuildStaleBecause(root = PROJECT_ROOT) {
  let stamp
  try {
    stamp = JSON.parse(readFileSync(join(root, 'out', 'main', 'cli.stamp.json'), 'utf8'))
    statSync(join(root, 'out', 'main', 'cli.js'))
  } catch {
    return 'the CLI is not built'
  }
  for (const source of stamp.sources) {
    let modified
    try {
      modified = statSync(join(root, source)).mtimeMs
    } catch {
      return `the build names ${source}, which is gone`
    }
    if (modified > stamp.builtAt) return `${source} changed after the last build`
  }
  return undefined
}
