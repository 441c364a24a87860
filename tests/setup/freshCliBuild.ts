import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { PROJECT_ROOT, cliBuildStaleBecause } from '../../bin/cliBuild.mjs'

/**
 * Vitest's global set-up. The tests run `certdesk` as real processes (bin/certdesk.mjs), which
 * runs the build only while it is current; `npm test` builds first, but a developer running a
 * few test files after an edit would otherwise test the source through tsx, slowly and with a
 * notice on stderr that some tests compare. So a stale or missing build is rebuilt here, once.
 */
export default function setup(): void {
  const stale = cliBuildStaleBecause()
  if (stale === undefined) return
  console.log(`Building (${stale}), so the tests run the CLI as users do...`)
  const build = spawnSync(
    process.execPath,
    [join(PROJECT_ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '-l', 'warn'],
    {
      cwd: PROJECT_ROOT,
      stdio: 'inherit',
    },
  )
  if (build.status !== 0) throw new Error('electron-vite build failed; see above.')
}
