/**
 * npm run bench [-- N]
 *
 * Issues N device certificates with their bundles through the core, for EC P-256 and RSA 2048 —
 * as one batch (the target) and one call at a time (reported) — and does the same work with an openssl command loop (new key + CSR + signature per
 * certificate) in the same run. Prints milliseconds per certificate and the ratio; exits 1 when
 * a target is missed: EC P-256 ≥ 10× the openssl loop, RSA 2048 at least as fast.
 *
 * Also what a user at a shell feels: `certdesk cert create` then `certdesk cert export` as real
 * processes, one pair per certificate (BENCH_CLI_N of them, 20 by default; the CLI has no batch
 * command), in the same run, with its ratio to the openssl loop and to the core. Reported, not judged.
 * And `certdesk provision` making N devices with their certificates, bindings and bundles from one
 * CSV in one process, with its ratios. Reported, not judged.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { KeyType } from '../src-main/core/pki/keys'
import { forEachConcurrently } from '../src-main/core/concurrency'
import { Workspace } from '../src-main/core/workspace'

const run = promisify(execFile)
const count = Number(process.argv[2] ?? process.env.BENCH_N ?? 200)
const cliCount = Number(process.env.BENCH_CLI_N ?? 20)
const CLI = join(import.meta.dirname, '../bin/certdesk.mjs')
const targets: Record<'ec-p256' | 'rsa2048', number> = { 'ec-p256': 10, rsa2048: 1 }

/** Batch provisioning: one call issues all N (keys on every core), then each bundle is written. */
async function timeCoreBatch(keyType: KeyType, folder: string): Promise<number> {
  const workspace = await Workspace.initialise(join(folder, `batch-${keyType}`), { keyType })
  await workspace.issueDeviceCertificate({ name: 'warm-up' })
  const start = performance.now()
  const inputs = Array.from({ length: count }, (_, i) => ({ name: `bench-${i}` }))
  const certificates = await workspace.issueDeviceCertificates(inputs)
  await workspace.exportDeviceBundles(
    certificates.map((certificate) => certificate.id),
    async (id, zip) => {
      await writeFile(join(folder, `batch-${keyType}-${id}.zip`), zip)
      return true
    },
  )
  return (performance.now() - start) / count
}

/** One call per certificate, as `certdesk cert create` and the create dialog do. */
async function timeCoreSingle(keyType: KeyType, folder: string): Promise<number> {
  const workspace = await Workspace.initialise(join(folder, `single-${keyType}`), { keyType })
  await workspace.issueDeviceCertificate({ name: 'warm-up' })
  const start = performance.now()
  await forEachConcurrently(
    Array.from({ length: count }, (_, i) => i),
    availableParallelism(),
    async (i) => {
      const certificate = await workspace.issueDeviceCertificate({ name: `bench-${i}` })
      await writeFile(join(folder, `single-${keyType}-${i}.zip`), await workspace.exportDeviceBundle(certificate.id))
    },
  )
  return (performance.now() - start) / count
}

async function timeOpenssl(keyType: 'ec-p256' | 'rsa2048', folder: string): Promise<number> {
  const newKey = keyType === 'ec-p256' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048']
  const ca = join(folder, `ossl-${keyType}-ca`)
  await run('openssl', [
    'req',
    '-x509',
    ...newKey,
    '-nodes',
    '-keyout',
    `${ca}.key`,
    '-out',
    `${ca}.crt`,
    '-days',
    '3650',
    '-subj',
    '/CN=Bench Root',
  ])
  const extensions = join(folder, 'device.ext')
  await writeFile(
    extensions,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  )
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const base = join(folder, `ossl-${keyType}-${i}`)
    await run('openssl', ['req', '-new', ...newKey, '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=device-${i}`])
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      `${base}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '365',
      '-sha256',
      '-extfile',
      extensions,
      '-out',
      `${base}.crt`,
    ])
  }
  return (performance.now() - start) / count
}

/** A shell loop of real `certdesk` processes: `cert create` and `cert export` per certificate. */
async function timeCliProcesses(keyType: KeyType, folder: string): Promise<number> {
  const dataDir = join(folder, `cli-${keyType}`)
  const certdesk = (...args: string[]) =>
    run(process.execPath, [CLI, '--data', dataDir, ...args], { env: { ...process.env, CERTDESK_HOME: '' } })
  await certdesk('ca', 'init', '--key-type', keyType)
  const start = performance.now()
  for (let i = 0; i < cliCount; i++) {
    const { stdout } = await certdesk('cert', 'create', '--name', `bench-${i}`, '--key-type', keyType, '--json')
    const { id } = JSON.parse(stdout) as { id: string }
    await certdesk('cert', 'export', id, '--out', join(folder, `cli-${keyType}-${i}.zip`))
  }
  return (performance.now() - start) / cliCount
}

/** `certdesk provision`: N devices with certificates, bindings and bundles from one CSV, one process. */
async function timeCliProvision(keyType: KeyType, folder: string): Promise<number> {
  const dataDir = join(folder, `provision-${keyType}`)
  const certdesk = (...args: string[]) =>
    run(process.execPath, [CLI, '--data', dataDir, ...args], { env: { ...process.env, CERTDESK_HOME: '' } })
  await certdesk('ca', 'init', '--key-type', keyType)
  const csv = join(folder, `provision-${keyType}.csv`)
  const rows = Array.from({ length: count }, (_, i) => `Device ${i},device-${String(i).padStart(6, '0')},cert`)
  await writeFile(csv, ['name,device_id,auth', ...rows].join('\n'))
  const start = performance.now()
  await certdesk('provision', '--csv', csv, '--out', join(folder, `provision-${keyType}-out`))
  return (performance.now() - start) / count
}

const folder = await mkdtemp(join(tmpdir(), 'certdesk-bench-'))
let missed = false
try {
  console.log(`certificates per run: ${count}; cores: ${availableParallelism()}`)
  for (const keyType of ['ec-p256', 'rsa2048'] as const) {
    const batch = await timeCoreBatch(keyType, folder)
    const single = await timeCoreSingle(keyType, folder)
    const openssl = await timeOpenssl(keyType, folder)
    const cli = await timeCliProcesses(keyType, folder)
    const provision = await timeCliProvision(keyType, folder)
    const ratio = openssl / batch
    const ok = ratio >= targets[keyType]
    missed ||= !ok
    console.log(
      `${keyType.padEnd(8)} core batch ${batch.toFixed(2)} ms/cert, one by one ${single.toFixed(2)} ms/cert (with bundles)  ` +
        `openssl loop ${openssl.toFixed(2)} ms/cert  ratio (batch) ${ratio.toFixed(1)}x, (one by one) ${(openssl / single).toFixed(1)}x  ` +
        `target >= ${targets[keyType]}x  ${ok ? 'met' : 'MISSED'}`,
    )
    console.log(
      `${''.padEnd(8)} certdesk processes (cert create + cert export, ${cliCount} in a loop) ${cli.toFixed(2)} ms/cert  ` +
        `vs openssl loop ${(openssl / cli).toFixed(2)}x, vs core one by one ${(cli / single).toFixed(1)}x slower, vs core batch ${(cli / batch).toFixed(1)}x slower  (reported, no target)`,
    )
    console.log(
      `${''.padEnd(8)} certdesk provision (${count} devices from a CSV: devices, certificates, bindings, bundles; one process) ` +
        `${provision.toFixed(2)} ms/device  vs openssl loop ${(openssl / provision).toFixed(1)}x, vs core batch ${(provision / batch).toFixed(2)}x  (reported, no target)`,
    )
  }
} finally {
  await rm(folder, { recursive: true, force: true })
}
process.exitCode = missed ? 1 : 0
