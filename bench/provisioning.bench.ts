/**
 * npm run bench — provisioning a fleet (issue 12, the first scale target): N EC P-256 devices
 * with their certificates, bindings and bundles from one CSV, against the fastest openssl loop and
 * against the floor of this stack, in one run. BENCH_PROVISION_N devices (10,000 by default).
 *
 * - Certdesk: `certdesk provision --csv devices.csv --out DIR` as one process (the built CLI, as
 *   an operator runs it), into a folder made by `certdesk ca init --key-type ec-p256`; timed end
 *   to end, process start to exit. Also the core alone (`Workspace.provision` and the bundles
 *   written as the CLI writes them), reported.
 * - The fastest openssl loop: one `openssl req -x509 -new -newkey ec … -CA ca.crt -CAkey ca.key`
 *   per certificate (key, certificate and signature in one process, the default profile's
 *   extensions as -addext), timed on a sample of min(N, BENCH_PROVISION_OPENSSL_SAMPLE = 500) and
 *   scaled per certificate: one at a time, and as many at once as there are cores (what
 *   `xargs -P $(nproc)` does). Target: Certdesk at least 10× faster than the parallel loop.
 * - The floor: a minimal Node script in this process, no store — node:crypto keys on libuv's pool
 *   (as the core makes them), certificates encoded with @peculiar/asn1-x509 and asn1js (the core's
 *   ASN.1 library), signed by node:crypto, the same output as Certdesk's per device (the seed's
 *   bundle: `<id>/common_certs/{common.crt,common.key,root_ca.crt}`). Target: Certdesk within 1.5×
 *   of it. Reported beside it: the floor writing only a key and a certificate file per device.
 *
 * Prints every figure with its ratio and the load average; exits 1 when a target is missed, or
 * when the CLI build is stale and cannot be rebuilt (the source through tsx is not what is measured).
 */
import { execFile, spawnSync } from 'node:child_process'
import { type KeyObject, X509Certificate, createHash, createPrivateKey, generateKeyPair, randomBytes, sign } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import * as asn from '@peculiar/asn1-x509'
import * as asn1js from 'asn1js'
import { PROJECT_ROOT, cliBuildStaleBecause } from '../bin/cliBuild.mjs'
import { forEachConcurrently } from '../src-main/core/concurrency'
import { Workspace } from '../src-main/core/workspace'

const run = promisify(execFile)
const generateKeys = promisify(generateKeyPair)
const count = Number(process.env.BENCH_PROVISION_N ?? 10_000)
const opensslSample = Math.min(count, Number(process.env.BENCH_PROVISION_OPENSSL_SAMPLE ?? 500))
const cores = availableParallelism()
const CLI = join(PROJECT_ROOT, 'bin/certdesk.mjs')
const TARGET_OPENSSL = 10
const TARGET_FLOOR = 1.5

const deviceIds = Array.from({ length: count }, (_, i) => `device-${String(i).padStart(6, '0')}`)
const csv = `${['name,device_id,auth', ...deviceIds.map((id, i) => `Device ${i},${id},cert`)].join('\n')}\n`

/** The built CLI, current; rebuilt once when stale (as `npm run bench` does before every step). */
function ensureBuiltCli(): void {
  const stale = cliBuildStaleBecause()
  if (stale === undefined) return
  console.log(`provisioning: ${stale}; building the CLI (npx electron-vite build)…`)
  const build = spawnSync('npx', ['electron-vite', 'build', '-l', 'warn'], { stdio: 'inherit', cwd: PROJECT_ROOT })
  const still = cliBuildStaleBecause()
  if (build.status !== 0 || still !== undefined) {
    console.error(`provisioning: the CLI build failed or is still stale (${still ?? `exit ${build.status}`}); run "npm run build".`)
    process.exit(1)
  }
}

/** Fails the run unless `certificate` chains to `root` for client auth: the outputs compared are alike. */
async function assertVerifies(root: string, certificate: string): Promise<void> {
  await run('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', root, certificate])
}

/** `certdesk provision` as one process, start to exit; ms per device. */
async function timeCli(folder: string): Promise<number> {
  const dataDir = join(folder, 'cli-data')
  const out = join(folder, 'cli-out')
  const env = { ...process.env, CERTDESK_HOME: '' }
  await run(process.execPath, [CLI, '--data', dataDir, 'ca', 'init', '--key-type', 'ec-p256'], { env })
  const file = join(folder, 'devices.csv')
  await writeFile(file, csv)
  const start = performance.now()
  const result = spawnSync(process.execPath, [CLI, '--data', dataDir, 'provision', '--csv', file, '--out', out], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  })
  const elapsed = performance.now() - start
  const stderr = result.stderr.toString()
  if (result.status !== 0) throw new Error(`certdesk provision failed: ${stderr}`)
  if (stderr.includes('running from source')) throw new Error(`certdesk ran from source: ${stderr}`)
  const written = (await readdir(out)).filter((name) => name !== 'manifest.csv').length
  if (written !== count) throw new Error(`certdesk provision wrote ${written} bundles, not ${count}`)
  const sample = join(out, deviceIds[count - 1], 'common_certs')
  await assertVerifies(join(sample, 'root_ca.crt'), join(sample, 'common.crt'))
  return elapsed / count
}

/** The core alone: `Workspace.provision`, then the bundles written as the CLI writes them; ms per device. */
async function timeCore(folder: string): Promise<number> {
  const workspace = await Workspace.initialise(join(folder, 'core-data'), { keyType: 'ec-p256' })
  const start = performance.now()
  const result = await workspace.provision(csv, {})
  await workspace.deliverProvisioning(result, false, { dir: join(folder, 'core-out') })
  return (performance.now() - start) / count
}

const OPENSSL_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=clientAuth',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
].flatMap((extension) => ['-addext', extension])

/** A root like `certdesk ca init --key-type ec-p256` makes, for the openssl loop and the floor. */
async function opensslRoot(folder: string): Promise<{ key: string; certificate: string }> {
  const key = join(folder, 'ca.key')
  const certificate = join(folder, 'ca.crt')
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    certificate,
    '-subj',
    '/CN=Bench Root CA',
    '-days',
    '3650',
    '-config',
    '/dev/null',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-addext',
    'subjectKeyIdentifier=hash',
  ])
  return { key, certificate }
}

/** One openssl process per certificate, `parallel` at a time, on the sample; ms per certificate. */
async function timeOpenssl(folder: string, root: { key: string; certificate: string }, parallel: number): Promise<number> {
  const out = join(folder, `openssl-${parallel}`)
  await mkdir(out)
  const start = performance.now()
  await forEachConcurrently(deviceIds.slice(0, opensslSample), parallel, async (id) => {
    await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(out, `${id}.key`),
      '-out',
      join(out, `${id}.crt`),
      '-subj',
      `/CN=${id}`,
      '-days',
      '365',
      '-CA',
      root.certificate,
      '-CAkey',
      root.key,
      '-config',
      '/dev/null',
      ...OPENSSL_EXTENSIONS,
    ])
  })
  const elapsed = performance.now() - start
  await assertVerifies(root.certificate, join(out, `${deviceIds[opensslSample - 1]}.crt`))
  return elapsed / opensslSample
}

/**
 * The floor: what a minimal script on this stack does for the same certificates. The parts every
 * certificate shares (issuer, algorithm, extensions) are encoded once; per device a key pair on
 * libuv's pool, the TBSCertificate encoded with asn1js and signed, PEM files written.
 */
async function timeFloor(folder: string, root: { key: string; certificate: string }, layout: 'bundle' | 'pair'): Promise<number> {
  const out = join(folder, `floor-out-${layout}`)
  const rootPem = await readFile(root.certificate, 'utf8')
  const start = performance.now()
  const caKey: KeyObject = createPrivateKey(await readFile(root.key))
  const caTbs = AsnConvert.parse(new X509Certificate(await readFile(root.certificate)).raw, asn.Certificate).tbsCertificate
  const caKeyId = createHash('sha1').update(Buffer.from(caTbs.subjectPublicKeyInfo.subjectPublicKey)).digest()
  const block = (value: unknown) => asn1js.fromBER(AsnConvert.serialize(value)).result
  const extension = (id: string, critical: boolean, value: unknown) =>
    block(new asn.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) }))
  const algorithm = block(new asn.AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }))
  const issuerName = block(caTbs.subject)
  const shared = [
    extension(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: false })),
    extension(asn.id_ce_keyUsage, true, new asn.KeyUsage(asn.KeyUsageFlags.digitalSignature)),
    extension(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage(['1.3.6.1.5.5.7.3.2'])),
  ]
  const authorityKeyId = extension(
    asn.id_ce_authorityKeyIdentifier,
    false,
    new asn.AuthorityKeyIdentifier({ keyIdentifier: new asn.KeyIdentifier(caKeyId) }),
  )
  const pem = (label: string, der: Buffer) =>
    `-----BEGIN ${label}-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`
  const now = Date.now()
  const notBefore = new asn1js.UTCTime({ valueDate: new Date(Math.floor(now / 1000) * 1000) })
  const notAfter = new asn1js.UTCTime({ valueDate: new Date(Math.floor(now / 1000) * 1000 + 365 * 86_400_000) })
  await mkdir(out)
  await forEachConcurrently(deviceIds, cores * 4, async (id) => {
    const keys = await generateKeys('ec', { namedCurve: 'P-256' })
    const spki = asn1js.fromBER(keys.publicKey.export({ type: 'spki', format: 'der' })).result as asn1js.Sequence
    const bits = (spki.valueBlock.value[1] as asn1js.BitString).valueBlock.valueHexView
    const keyId = createHash('sha1').update(bits).digest()
    const serial = randomBytes(16)
    serial[0] = (serial[0] & 0x7f) | 0x40
    const tbs = new asn1js.Sequence({
      value: [
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }),
        new asn1js.Integer({ valueHex: serial }),
        algorithm,
        issuerName,
        new asn1js.Sequence({ value: [notBefore, notAfter] }),
        new asn1js.Sequence({
          value: [
            new asn1js.Set({
              value: [
                new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: '2.5.4.3' }), new asn1js.Utf8String({ value: id })] }),
              ],
            }),
          ],
        }),
        spki,
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 3 },
          value: [
            new asn1js.Sequence({
              value: [
                ...shared,
                new asn1js.Sequence({
                  value: [
                    new asn1js.ObjectIdentifier({ value: asn.id_ce_subjectKeyIdentifier }),
                    new asn1js.OctetString({ valueHex: new asn1js.OctetString({ valueHex: keyId }).toBER() }),
                  ],
                }),
                authorityKeyId,
              ],
            }),
          ],
        }),
      ],
    })
    const signature = sign('sha256', Buffer.from(tbs.toBER()), caKey)
    const certificate = Buffer.from(new asn1js.Sequence({ value: [tbs, algorithm, new asn1js.BitString({ valueHex: signature })] }).toBER())
    const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' })
    if (layout === 'pair') {
      // Two files a device: the least any tool hands over.
      const dir = join(out, id)
      await mkdir(dir)
      await writeFile(join(dir, 'device.key'), privateKeyPem, { mode: 0o600 })
      await writeFile(join(dir, 'device.crt'), pem('CERTIFICATE', certificate))
      return
    }
    // The seed's bundle, as `certdesk provision --out` writes it: the same output.
    const dir = join(out, id, 'common_certs')
    await mkdir(dir, { recursive: true })
    await Promise.all([
      writeFile(join(dir, 'common.crt'), pem('CERTIFICATE', certificate)),
      writeFile(join(dir, 'common.key'), privateKeyPem, { mode: 0o600 }),
      writeFile(join(dir, 'root_ca.crt'), rootPem),
    ])
  })
  const elapsed = performance.now() - start
  const last =
    layout === 'pair' ? join(out, deviceIds[count - 1], 'device.crt') : join(out, deviceIds[count - 1], 'common_certs', 'common.crt')
  await assertVerifies(root.certificate, last)
  return elapsed / count
}

ensureBuiltCli()
const folder = await mkdtemp(join(tmpdir(), 'certdesk-provision-bench-'))
try {
  const root = await opensslRoot(folder)
  const opensslSerial = await timeOpenssl(folder, root, 1)
  const opensslParallel = await timeOpenssl(folder, root, cores)
  const floor = await timeFloor(folder, root, 'bundle')
  const floorPair = await timeFloor(folder, root, 'pair')
  const cli = await timeCli(folder)
  const core = await timeCore(folder)
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')
  const fmt = (perDevice: number) =>
    `${perDevice.toFixed(3).padStart(7)} ms/device  ${((perDevice * count) / 1000).toFixed(1).padStart(6)} s for ${count}`
  const vsOpenssl = opensslParallel / cli
  const vsFloor = cli / floor
  const opensslOk = vsOpenssl >= TARGET_OPENSSL
  const floorOk = vsFloor <= TARGET_FLOOR
  console.log(`provisioning ${count} EC P-256 devices with certificates, bindings and bundles; ${cores} cores; load average ${load}`)
  console.log(`  certdesk provision (one process, end to end) ${fmt(cli)}`)
  console.log(`  core alone (provision + bundles written)     ${fmt(core)}  certdesk process ${(cli / core).toFixed(2)}× it  (reported)`)
  console.log(
    `  openssl loop, ${cores} at once (sample ${opensslSample})     ${fmt(opensslParallel)}  certdesk ${vsOpenssl.toFixed(1)}× faster  target ≥ ${TARGET_OPENSSL}×  ${opensslOk ? 'met' : 'MISSED'}`,
  )
  console.log(
    `  openssl loop, one at a time (sample ${opensslSample})  ${fmt(opensslSerial)}  certdesk ${(opensslSerial / cli).toFixed(1)}× faster  (reported; ${(opensslSerial / opensslParallel).toFixed(2)}× the parallel loop)`,
  )
  console.log(
    `  floor: node:crypto + asn1js script, no store, the same bundles ${fmt(floor)}  certdesk ${vsFloor.toFixed(2)}× it  target ≤ ${TARGET_FLOOR}×  ${floorOk ? 'met' : 'MISSED'}; core alone ${(core / floor).toFixed(2)}× it`,
  )
  console.log(
    `  the floor writing two files a device (key, certificate) ${fmt(floorPair)}  certdesk ${(cli / floorPair).toFixed(2)}× it  (reported)`,
  )
  // No writer of these files can beat the floor: when the floor is under 10× the loop, so is everyone.
  const floorVsOpenssl = opensslParallel / floor
  if (floorVsOpenssl < TARGET_OPENSSL)
    console.log(
      `  the floor itself is ${floorVsOpenssl.toFixed(1)}× faster than the parallel loop here: ${TARGET_OPENSSL}× cannot be reached on this machine`,
    )
  if (!opensslOk || !floorOk) process.exitCode = 1
} finally {
  await rm(folder, { recursive: true, force: true })
}
