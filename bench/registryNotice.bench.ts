/**
 * npm run bench (registry notice part): how soon the embedded broker acts on a registry change
 * that invalidates a live session — what the operator feels after disabling a certificate or
 * regenerating a device key. Target: every drop within 1 s of the change having landed.
 *
 * - In this process: `Workspace.updateCertificate(…, { enabled: false })`, from the call's return
 *   to the mutual-TLS client's close (BENCH_NOTICE_ROUNDS rounds, 10).
 * - From another process: `certdesk device regenerate-key`, from the CLI's exit to the one-way
 *   client's close (the broker sees another process's write by watching the folder).
 *
 * The functional tests check that these drops happen (within 5 s, so a loaded CI machine cannot
 * fail them); the time is judged here. Exits 1 when a target is missed or the CLI build is stale.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { startBroker } from '../src-main/core/broker/broker'
import { Workspace } from '../src-main/core/workspace'
import { cliBuildStaleBecause } from '../bin/cliBuild.mjs'

const ROUNDS = Number(process.env.BENCH_NOTICE_ROUNDS ?? 10)
const TARGET_MS = 1000
/** Longer than any drop worth measuring: a round that waits this long counts as missed. */
const GIVE_UP_MS = 10_000
const CLI = join(import.meta.dirname, '../bin/certdesk.mjs')

const connect = (port: number, options: IClientOptions) =>
  mqtt.connectAsync(`mqtts://localhost:${port}`, { reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion: 4, ...options })

/** Milliseconds from `since()` (read once the change has landed) to the client's close. */
function closedAfter(client: MqttClient, since: () => number): Promise<number> {
  return new Promise((resolve) => {
    const giveUp = setTimeout(() => resolve(GIVE_UP_MS), GIVE_UP_MS)
    client.once('close', () => {
      clearTimeout(giveUp)
      resolve(Date.now() - since())
    })
  })
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function main(): Promise<number> {
  const stale = cliBuildStaleBecause()
  if (stale) {
    console.error(`registry notice: ${stale}; run "npm run build" first.`)
    return 1
  }
  const folder = await mkdtemp(join(tmpdir(), 'certdesk-bench-notice-'))
  const workspace = await Workspace.initialise(join(folder, 'data'), { keyType: 'ec-p256' })
  try {
    let token = await workspace.createDevice({ name: 'Meter', authType: 'token', deviceId: 'notice-meter-01' })
    const device = await workspace.createDevice({ name: 'Pump', authType: 'cert', deviceId: 'notice-pump-01' })
    const issued = await workspace.issueDeviceCertificate({ name: 'Pump certificate' })
    await workspace.bindDevices(issued.id, [device.deviceId])
    const { certificatePem: cert, privateKeyPem: key } = await workspace.certificateMaterial(issued.id)
    const ca = await workspace.rootCertificatePem()
    const broker = await startBroker(workspace, { oneWayPort: 0, mutualPort: 0 })
    try {
      const inProcess: number[] = []
      const otherProcess: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        const mutual = await connect(broker.mutual.port, { ca, cert, key, clientId: device.deviceId, username: device.username })
        let landedAt = 0
        const dropped = closedAfter(mutual, () => landedAt)
        await workspace.updateCertificate(issued.id, { enabled: false })
        landedAt = Date.now()
        inProcess.push(await dropped)
        await workspace.updateCertificate(issued.id, { enabled: true })

        const oneWay = await connect(broker.oneWay.port, {
          ca,
          clientId: token.deviceId,
          username: token.username,
          password: token.deviceKey,
        })
        let exitedAt = 0
        const droppedByCli = closedAfter(oneWay, () => exitedAt)
        const result = spawnSync(
          process.execPath,
          [CLI, '--data', workspace.dataDir, 'device', 'regenerate-key', token.deviceId, '--json'],
          {
            encoding: 'utf8',
            env: { ...process.env, CERTDESK_HOME: '' },
          },
        )
        exitedAt = Date.now()
        if (result.status !== 0) throw new Error(`certdesk device regenerate-key failed: ${result.stderr}`)
        token = { ...token, deviceKey: (JSON.parse(result.stdout) as { deviceKey: string }).deviceKey }
        otherProcess.push(await droppedByCli)
      }
      const report = (what: string, values: number[]) => {
        const worst = Math.max(...values)
        console.log(`${what}: median ${median(values)} ms, worst ${worst} ms over ${values.length} (target ≤ ${TARGET_MS} ms)`)
        return worst <= TARGET_MS
      }
      console.log(
        `load ${loadavg()
          .map((value) => value.toFixed(2))
          .join(' ')}`,
      )
      const met = [report('change in this process → session dropped', inProcess), report('CLI change → session dropped', otherProcess)]
      return met.every(Boolean) ? 0 : 1
    } finally {
      await broker.close()
    }
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`registry notice bench: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  },
)
