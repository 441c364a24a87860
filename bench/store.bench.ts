/**
 * npm run bench — store scaling (issue 12): what one more change costs in a folder of N devices
 * and N certificates (each bound) against the same change in a folder of 100, in one run.
 *
 * Times, on an open workspace (median of 7), `createDevice`, `issueDeviceCertificate` and
 * `bindDevices`: each rewrites the registry index. Target: at most 1.5× the 100-entry cost at
 * BENCH_STORE_N (10,000 by default). The folders are made with one provisioning run each.
 * Exits 1 when the target is missed.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Workspace } from '../src-main/core/workspace'

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

const root = await mkdtemp(join(tmpdir(), 'certdesk-store-bench-'))
try {
  const small = await costs(await folderWith(root, SMALL))
  const largeWorkspace = await folderWith(root, large)
  const big = await costs(largeWorkspace)
  const indexBytes = (await stat(join(root, `n${large}`, 'config.json'))).size
  console.log(`store scaling: one change at ${large} entries vs ${SMALL} (target ≤ ${TARGET}×); index ${(indexBytes / 1e6).toFixed(1)} MB`)
  console.log(
    `load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  )
  let missed = false
  for (const operation of Object.keys(small)) {
    const ratio = big[operation] / small[operation]
    missed ||= ratio > TARGET
    console.log(
      `  ${operation.padEnd(14)} ${small[operation].toFixed(1).padStart(7)} ms → ${big[operation].toFixed(1).padStart(7)} ms  ${ratio.toFixed(1)}×  ${ratio > TARGET ? 'MISSED' : 'ok'}`,
    )
  }
  if (missed) process.exitCode = 1
} finally {
  await rm(root, { recursive: true, force: true })
}
