/**
 * npm run bench (first part): how fast `certdesk` starts, as a process, against `node -e 0` on
 * the same machine in the same run (runs interleaved, so a busy machine slows them all alike):
 * `certdesk cert list --json` on a folder of 1,000 certificates (the target: within 3× `node -e
 * 0`), `certdesk --help`, and the same listing from source through tsx as before issue 12
 * (both reported). Medians of BENCH_STARTUP_RUNS runs (21 by default).
 * Exits 1 when the target is missed, or when the CLI build is missing or stale (bin/certdesk.mjs
 * would then run the source through tsx, which is not what is being measured: `npm run bench`
 * builds first).
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_ROOT, cliBuildStaleBecause } from '../bin/cliBuild.mjs'
import { Workspace } from '../src-main/core/workspace'

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 21)
const CERTIFICATES = 1_000
const TARGET = 3
const CLI = join(PROJECT_ROOT, 'bin/certdesk.mjs')

const stale = cliBuildStaleBecause()
if (stale !== undefined) {
  console.error(`cli start-up: ${stale}; run "npm run build" first (npm run bench does).`)
  process.exit(1)
}

const folder = await mkdtemp(join(tmpdir(), 'certdesk-bench-startup-'))
try {
  const dataDir = join(folder, 'data')
  const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
  await workspace.issueDeviceCertificates(Array.from({ length: CERTIFICATES }, (_, i) => ({ name: `device-${i}` })))

  const commands: Record<string, string[]> = {
    'node -e 0': ['-e', '0'],
    'certdesk --help': [CLI, '--help'],
    [`certdesk cert list --json (${CERTIFICATES.toLocaleString('en')} certificates)`]: [CLI, '--data', dataDir, 'cert', 'list', '--json'],
    // The same listing from source through tsx, as every start was before issue 12 (reported).
    'from source': [CLI, '--data', dataDir, 'cert', 'list', '--json'],
  }
  const times = new Map<string, number[]>(Object.keys(commands).map((name) => [name, []]))
  for (let run = 0; run < RUNS; run++) {
    for (const [name, args] of Object.entries(commands)) {
      const start = performance.now()
      const env = { ...process.env, CERTDESK_HOME: '', CERTDESK_FROM_SOURCE: name === 'from source' ? '1' : '' }
      const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
      const elapsed = performance.now() - start
      if (result.status !== 0 || result.stderr.length > 0) throw new Error(`${name} failed: ${result.stderr.toString()}`)
      times.get(name)!.push(elapsed)
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]
  const [base, help, list, fromSource] = [...times.values()].map(median)
  console.log(`cli start-up, median of ${RUNS} interleaved runs:`)
  console.log(`  node -e 0                                           ${base.toFixed(1).padStart(7)} ms`)
  console.log(
    `  certdesk --help                                     ${help.toFixed(1).padStart(7)} ms  ${(help / base).toFixed(2)}x node  (reported)`,
  )
  const ok = list / base <= TARGET
  console.log(
    `  certdesk cert list --json, ${CERTIFICATES} certificates        ${list.toFixed(1).padStart(7)} ms  ${(list / base).toFixed(2)}x node  target <= ${TARGET}x  ${ok ? 'met' : 'MISSED'}`,
  )
  console.log(
    `  the same, from source through tsx (before issue 12)  ${fromSource.toFixed(1).padStart(7)} ms  ${(fromSource / base).toFixed(2)}x node  (reported)`,
  )
  process.exitCode = ok ? 0 : 1
} finally {
  await rm(folder, { recursive: true, force: true })
}
