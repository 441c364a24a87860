/**
 * npm run bench — store scaling (issue 12): what one more change costs in a folder of N devices
 * and N certificates (each bound) against the same change in a folder of 100, in one run.
 *
 * Judged as the operator feels it: `certdesk device create`, `cert create` and `cert bind` as
 * processes (the built CLI, median of 7); target at most 1.5× the 100-entry cost at
 * BENCH_STORE_N (10,000 by default). Reported beside them: the same three changes on an open
 * workspace (the store's own share). The folders are made with one provisioning run each.
 * Exits 1 when the target is missed, or when the CLI build is stale.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Workspace } from '../src-main/core/workspace'
import { cliBuildStaleBecause } from '../bin/cliBuild.mjs'

const CLI = join(import.meta.dirname, '../bin/certdesk.mjs')

const large = Number(process.env.BENCH_STORE_N ?? 10_000)
const SMALL = 100
const TARGET = 1.5

async function folderWith(root: string, n: number): Promise<Workspace> {
  const workspace = await Workspace.initialise(join(root, `n${n}`), { keyType: 'ec-p256' })
  const lines = ['name,device_id,auth']
  for (let i = 0; i < n; i++) lines.push(`Device ${i},bench-${String(i).padStart(8, '0')},cert`)
  await workspace.provision(`${lines.join('\n')}\n`, {})
  return workspace
}

async function median(work: () => Promise<unknown>, runs = 7): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await work()
    times.push(performance.now() - start)
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]
}

async function costs(workspace: Workspace): Promise<Record<string, number>> {
  let devices = 0
  let certificates = 0
  let bound = 0
  const target = await workspace.issueDeviceCertificate({ name: 'bind target' })
  return {
    'device create': await median(() =>
      workspace.createDevice({ name: 'extra', authType: 'cert', deviceId: `extra-${String(devices++).padStart(8, '0')}` }),
    ),
    'cert create': await median(() => workspace.issueDeviceCertificate({ name: `extra certificate ${certificates++}` })),
    'cert bind': await median(() => workspace.bindDevices(target.id, [`extra-${String(bound++).padStart(8, '0')}`])),
  }
}

/** The same three changes as `certdesk` processes on the folder, as a shell script would run them. */
async function commandCosts(dataDir: string): Promise<Record<string, number>> {
  const certdesk = (...args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, '--data', dataDir, ...args, '--json'], { env: { ...process.env, CERTDESK_HOME: '' } })
    if (result.status !== 0) throw new Error(`certdesk ${args.join(' ')}: ${result.stderr}`)
    return JSON.parse(result.stdout.toString()) as { id: string }
  }
  let devices = 0
  let certificates = 0
  let bound = 0
  const target = certdesk('cert', 'create', '--name', 'process bind target')
  const time = async (work: () => unknown) => median(async () => work())
  return {
    'device create': await time(() =>
      certdesk('device', 'create', '--name', 'extra', '--auth', 'cert', '--device-id', `proc-${String(devices++).padStart(8, '0')}`),
    ),
    'cert create': await time(() => certdesk('cert', 'create', '--name', `process certificate ${certificates++}`)),
    'cert bind': await time(() => certdesk('cert', 'bind', target.id, `proc-${String(bound++).padStart(8, '0')}`)),
  }
}

const stale = cliBuildStaleBecause()
if (stale) {
  console.error(`store scaling: ${stale}; run "npm run build" first.`)
  process.exit(1)
}
const root = await mkdtemp(join(tmpdir(), 'certdesk-store-bench-'))
try {
  const smallWorkspace = await folderWith(root, SMALL)
  const smallCore = await costs(smallWorkspace)
  const smallCommands = await commandCosts(join(root, `n${SMALL}`))
  const largeWorkspace = await folderWith(root, large)
  const bigCore = await costs(largeWorkspace)
  const bigCommands = await commandCosts(join(root, `n${large}`))
  const headBytes = (await stat(join(root, `n${large}`, 'config.json'))).size
  const tables = (await readdir(join(root, `n${large}`, 'tables'), { recursive: true, withFileTypes: true })).filter((entry) =>
    entry.isFile(),
  )
  let tableBytes = 0
  for (const entry of tables) tableBytes += (await stat(join(entry.parentPath, entry.name))).size
  console.log(
    `store scaling: one change at ${large} entries vs ${SMALL} (target ≤ ${TARGET}×); head ${(headBytes / 1e3).toFixed(1)} kB, ` +
      `tables ${(tableBytes / 1e6).toFixed(1)} MB in ${tables.length} files`,
  )
  console.log(
    `load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  )
  let missed = false
  for (const operation of Object.keys(smallCommands)) {
    const ratio = bigCommands[operation] / smallCommands[operation]
    const coreRatio = bigCore[operation] / smallCore[operation]
    missed ||= ratio > TARGET
    console.log(
      `  certdesk ${operation.padEnd(14)} ${smallCommands[operation].toFixed(1).padStart(7)} ms → ${bigCommands[operation].toFixed(1).padStart(7)} ms  ${ratio.toFixed(1)}×  ${ratio > TARGET ? 'MISSED' : 'ok'}` +
        `   (the store's share, on an open workspace: ${smallCore[operation].toFixed(1)} → ${bigCore[operation].toFixed(1)} ms, ${coreRatio.toFixed(1)}×)`,
    )
  }
  if (missed) process.exitCode = 1
} finally {
  await rm(root, { recursive: true, force: true })
}
