/**
 * npm run bench (broker part): the embedded broker and Debian's mosquitto side by side, in one
 * run, with the same server certificate, the same devices (mosquitto gets them as a password
 * file) and `set_tcp_nodelay true`, both on 127.0.0.1 in a process of their own so their CPU
 * time (/proc/<pid>/stat) and memory (VmRSS) are measured the same way. Load comes from this
 * process over raw TLS sockets (no MQTT library: it would cost more CPU than the brokers).
 *
 * - Resting memory with BENCH_BROKER_DEVICES devices (10,000) and BENCH_BROKER_CERTIFICATES bound
 *   certificates (500) in the registry: reported with its ratio, and the runtime floor.
 * - Broker CPU per TLS connection (handshake + CONNECT with username and device key): reported.
 * - Memory per idle connection at BENCH_BROKER_CONNECTIONS (1000; e.g. "1000,5000"):
 *   target within 1.5× mosquitto.
 * - Both next to a bare node:tls server with the same certificate (the floor Node's TLS sets).
 * - QoS 0 throughput, BENCH_BROKER_PAIRS (50) publishers each feeding one of as many subscribers,
 *   for BENCH_BROKER_SECONDS (5) after a 1 s warm-up, once per BENCH_BROKER_WINDOWS ("100,1000"):
 *   messages in flight per pair (at 1,000 the publishers outrun the broker and it queues).
 *   Messages/s delivered (target ≥ 1× mosquitto) and broker CPU per message.
 * - BENCH_BROKER_DETAILS=1 (or =snapshots), BENCH_BROKER_CPU_PROFILE=<dir>, BENCH_BROKER_KEEP=1:
 *   the embedded broker's memory use (heap snapshots), a CPU profile of it, the fleet kept.
 *
 * Exits 1 when a target is missed. Every broker started here is stopped by its PID, and each
 * embedded broker also stops when this process goes away (its stdin closes).
 */
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TLSSocket, createServer as createTlsServer, connect as tlsConnect } from 'node:tls'
import { startBroker } from '../src-main/core/broker/broker'
import { DEFAULT_TOPIC_RULES } from '../src-main/core/broker/topicRules'
import { generateDeviceKey, newDeviceRecordId } from '../src-main/core/registry/ids'
import { RegistryStore } from '../src-main/core/store/registryStore'
import type { DeviceRecord } from '../src-main/core/store/schema'
import { Workspace } from '../src-main/core/workspace'
import { freePort, stopChild } from '../tests/helpers/processes'

const env = process.env
const DEVICES = Number(env.BENCH_BROKER_DEVICES ?? 10_000)
const CERTIFICATES = Number(env.BENCH_BROKER_CERTIFICATES ?? 500)
const CONNECTIONS = (env.BENCH_BROKER_CONNECTIONS ?? '1000').split(',').map(Number)
const PAIRS = Number(env.BENCH_BROKER_PAIRS ?? 50)
const WINDOWS = (env.BENCH_BROKER_WINDOWS ?? '100,1000').split(',').map(Number)
const SECONDS = Number(env.BENCH_BROKER_SECONDS ?? 5)
const PAYLOAD_BYTES = 64
/** Connections opened at once while filling up to the idle count. */
const CONNECT_PARALLEL = 16
const CLOCK_TICKS = 100

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')

// ---- The embedded broker's own process: `tsx bench/broker.bench.ts embedded-broker <dataDir>`.

async function serveEmbeddedBroker(dataDir: string): Promise<void> {
  const workspace = await Workspace.open(dataDir)
  // The store reads its table files when a lookup first needs them (schema 3). Read the fleet
  // once here, as a broker that has seen every device has, so that memory counts as resting
  // memory and not as the first thousand connections' cost.
  workspace.listDevices()
  workspace.listCertificates()
  const broker = await startBroker(workspace, {
    host: '127.0.0.1',
    oneWayPort: 0,
    mutualPort: 0,
    maxConnections: 100_000,
    connectRatePerAddress: 1_000_000_000,
  })
  process.stdout.write(JSON.stringify({ port: broker.oneWay.port }) + '\n')
  const stop = () => {
    setTimeout(() => process.exit(0), 2_000).unref()
    void broker.close().finally(() => process.exit(0))
  }
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  process.on('SIGTERM', stop)
  // BENCH_BROKER_DETAILS=1: where the embedded broker's memory is, after each idle step.
  process.on('SIGUSR2', () => {
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    ;(globalThis as { gc?: () => void }).gc?.()
    const usage = process.memoryUsage()
    console.error(
      `  embedded broker: ${Object.entries(usage)
        .map(([name, bytes]) => `${name} ${mib(bytes)}`)
        .join(', ')}`,
    )
  })
}

/**
 * `tsx bench/broker.bench.ts tls-floor <dir>`: a bare node:tls server with the same certificate
 * and key (from mosquitto's folder) that answers the first bytes with a CONNACK: no MQTT, no
 * registry. What Node's TLS costs per connection, so the broker's own share can be told apart.
 */
function serveTlsFloor(dir: string): void {
  const held = new Set<TLSSocket>()
  const tlsServer = createTlsServer(
    { key: readFileSync(join(dir, 'keyfile')), cert: readFileSync(join(dir, 'certfile')), minVersion: 'TLSv1.2' },
    (socket) => {
      held.add(socket)
      socket.on('error', () => undefined)
      socket.once('data', () => socket.write(Buffer.from([0x20, 2, 0, 0])))
      socket.on('close', () => held.delete(socket))
    },
  )
  const server = createServer({ noDelay: true }, (socket) => tlsServer.emit('connection', socket)).listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n')
  })
  const stop = () => process.exit(0)
  process.stdin.on('end', stop)
  process.stdin.on('error', stop)
  process.stdin.resume()
  process.on('SIGTERM', stop)
}

// ---- Measuring a process.

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024
}

// ---- A minimal MQTT 3.1.1 client: the packets the bench sends, and a counter of what comes back.

function remainingLength(length: number): number[] {
  const bytes: number[] = []
  do {
    let byte = length % 128
    length = Math.floor(length / 128)
    if (length > 0) byte |= 0x80
    bytes.push(byte)
  } while (length > 0)
  return bytes
}

const utf8Field = (text: string) => {
  const bytes = Buffer.from(text, 'utf8')
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes])
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), body])
}

function connectPacket(clientId: string, username: string, password: string): Buffer {
  const header = Buffer.from([0, 4, ...Buffer.from('MQTT'), 4, 0xc2, 0x02, 0x58]) // 3.1.1, user+password+clean, keepalive 600 s
  return packet(0x10, Buffer.concat([header, utf8Field(clientId), utf8Field(username), utf8Field(password)]))
}

const subscribePacket = (topic: string) => packet(0x82, Buffer.concat([Buffer.from([0, 1]), utf8Field(topic), Buffer.from([0])]))
const publishPacket = (topic: string, payload: Buffer) => packet(0x30, Buffer.concat([utf8Field(topic), payload]))

/** Splits a byte stream into MQTT packets; calls `onPackets` per chunk with its packets' types and first body byte. */
class PacketReader {
  private pending = Buffer.alloc(0)
  constructor(private readonly onPacket: (type: number, firstBodyByte: number) => void) {}

  read(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk
    let offset = 0
    for (;;) {
      let length = 0
      let multiplier = 1
      let index = offset + 1
      let complete = false
      while (index < data.length) {
        const byte = data[index++]
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        if (!(byte & 0x80)) {
          complete = true
          break
        }
      }
      if (!complete || index + length > data.length) break
      this.onPacket(data[offset] >> 4, data[index])
      offset = index + length
    }
    data = data.subarray(offset)
    this.pending = data.length > 0 ? Buffer.from(data) : Buffer.alloc(0)
  }
}

interface BenchDevice {
  deviceId: string
  username: string
  deviceKey: string
}

/** Opens a TLS connection and sends CONNECT; resolves once CONNACK accepts it. */
function mqttConnect(port: number, device: BenchDevice, onPublishes?: (count: number) => void): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false })
    socket.setNoDelay(true)
    const timer = setTimeout(() => fail(new Error(`no CONNACK for ${device.deviceId} within 30 s`)), 30_000)
    const fail = (error: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(error)
    }
    let connected = false
    let publishes = 0
    const reader = new PacketReader((type, firstBodyByte) => {
      if (type === 3) publishes++
      else if (type === 2 && !connected) {
        // CONNACK: the second body byte is the return code; the first is the session flag.
        connected = true
        clearTimeout(timer)
        resolve(socket)
      } else if (type === 9) socket.emit('suback')
      void firstBodyByte
    })
    socket.on('data', (chunk: Buffer) => {
      publishes = 0
      reader.read(chunk)
      if (publishes > 0) onPublishes?.(publishes)
    })
    socket.on('error', (error) => (connected ? undefined : fail(error)))
    socket.on('close', () => (connected ? undefined : fail(new Error(`${device.deviceId}: closed before CONNACK`))))
    socket.once('secureConnect', () => socket.write(connectPacket(device.deviceId, device.username, device.deviceKey)))
  })
}

async function connectAll(port: number, devices: BenchDevice[]): Promise<TLSSocket[]> {
  const sockets: TLSSocket[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: CONNECT_PARALLEL }, async () => {
      while (next < devices.length) {
        const device = devices[next++]
        sockets.push(await mqttConnect(port, device))
      }
    }),
  )
  return sockets
}

async function closeAll(sockets: TLSSocket[]): Promise<void> {
  for (const socket of sockets) socket.destroy()
  await sleep(1_000)
}

// ---- The fleet: devices (as the registry and as mosquitto's password file), certificates, rules.

interface Fleet {
  dataDir: string
  devices: BenchDevice[]
  caPem: string
  certificatePem: string
  privateKeyPem: string
}

async function makeFleet(folder: string): Promise<Fleet> {
  const workspace = await Workspace.initialise(join(folder, 'data'), { keyType: 'ec-p256' })
  await workspace.updateTopicRules([...DEFAULT_TOPIC_RULES, { action: 'all', topic: 'bench/#', permission: 'allow' }])
  const certificates =
    CERTIFICATES > 0
      ? await workspace.issueDeviceCertificates(Array.from({ length: CERTIFICATES }, (_, i) => ({ name: `bench-${i}` })))
      : []
  const store = await RegistryStore.open(workspace.dataDir)
  await store.unlock()
  const stamp = new Date().toISOString()
  const devices: BenchDevice[] = []
  const records: DeviceRecord[] = []
  for (let i = 0; i < DEVICES; i++) {
    // The last ones are certificate devices, each bound to one certificate.
    const authType = i >= DEVICES - certificates.length ? 'cert' : 'token'
    const id = newDeviceRecordId()
    const deviceKey = generateDeviceKey()
    const deviceId = `bench-device-${String(i).padStart(5, '0')}`
    records.push({
      id,
      name: deviceId,
      deviceId,
      username: `user-${i}`,
      deviceKey: await store.sealDeviceKey(id, deviceKey),
      authType,
      createdAt: stamp,
      updatedAt: stamp,
    })
    if (authType === 'token') devices.push({ deviceId, username: `user-${i}`, deviceKey })
  }
  // One write for the whole fleet (device by device, each write rewrites the whole index).
  await store.mutate((data) => {
    for (const record of records) data.devices.put(record)
    certificates.forEach((certificate, i) => {
      data.bindings.add({ certificateId: certificate.id, deviceRecordId: records[DEVICES - certificates.length + i].id, createdAt: stamp })
    })
  })
  const material = await workspace.ensureBrokerServerCertificate([])
  return { dataDir: workspace.dataDir, devices, caPem: await workspace.rootCertificatePem(), ...material }
}

// ---- The two brokers, each in a process of its own.

interface BrokerProcess {
  name: string
  pid: number
  port: number
  stop(): Promise<void>
}

async function startEmbedded(fleet: Fleet): Promise<BrokerProcess> {
  return startChildServer('Certdesk', 'embedded-broker', fleet.dataDir)
}

/** This file in a process of its own under tsx, as `mode`; it prints its port when ready. */
async function startChildServer(name: string, mode: string, dir: string): Promise<BrokerProcess> {
  const profile: string[] =
    env.BENCH_BROKER_CPU_PROFILE && mode === 'embedded-broker' ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_BROKER_CPU_PROFILE}`] : []
  if (env.BENCH_BROKER_DETAILS && mode === 'embedded-broker') profile.push('--expose-gc', '--heapsnapshot-signal=SIGUSR1')
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', import.meta.filename, mode, dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const line = output.split('\n').find((text) => text.startsWith('{'))
      if (line) resolve((JSON.parse(line) as { port: number }).port)
    })
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${output}`)))
  })
  return { name, pid: child.pid ?? 0, port, stop: () => stopChild(child) }
}

async function startMosquitto(fleet: Fleet, folder: string): Promise<BrokerProcess> {
  // mosquitto drops to its own user: everything it reads must be readable by it.
  const dir = join(folder, 'mosquitto')
  await mkdir(dir, { recursive: true })
  await chmod(folder, 0o755)
  await chmod(dir, 0o755)
  const files = { cafile: fleet.caPem, certfile: fleet.certificatePem, keyfile: fleet.privateKeyPem }
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o644 })
  const passwords = join(dir, 'passwords')
  await writeFile(passwords, fleet.devices.map((device) => `${device.username}:${device.deviceKey}\n`).join(''), { mode: 0o644 })
  execFileSync('mosquitto_passwd', ['-U', passwords])
  await chmod(passwords, 0o644)
  const port = await freePort()
  const config = join(dir, 'mosquitto.conf')
  const lines = [
    `listener ${port} 127.0.0.1`,
    ...Object.keys(files).map((name) => `${name} ${join(dir, name)}`),
    'require_certificate false',
    'allow_anonymous false',
    `password_file ${passwords}`,
    'set_tcp_nodelay true',
    'max_connections -1',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    '',
  ]
  await writeFile(config, lines.join('\n'), { mode: 0o644 })
  const child = spawn('/usr/sbin/mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${output}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (open) break
    if (attempt > 100) throw new Error(`mosquitto did not listen: ${output}`)
    await sleep(100)
  }
  return { name: 'mosquitto', pid: child.pid ?? 0, port, stop: () => stopChild(child) }
}

// ---- The measurements, the same for both brokers, the bare node:tls floor, in that order.

interface Throughput {
  messagesPerSecond: number
  cpuPerMessageUs: number
  /** Sent but not delivered a second after the publishers stopped: dropped (mosquitto drops QoS 0 for a full queue) or still queued. */
  lost: number
}

interface Figures {
  restingBytes: number
  cpuPerConnectionMs: number
  bytesPerConnection: Map<number, number>
  throughput: Map<number, Throughput>
}

/** BENCH_BROKER_DETAILS=1: the embedded broker prints its memory use; =snapshots: it also writes heap snapshots. */
async function details(broker: BrokerProcess): Promise<void> {
  if (!env.BENCH_BROKER_DETAILS || broker.name !== 'Certdesk') return
  process.kill(broker.pid, 'SIGUSR2')
  if (env.BENCH_BROKER_DETAILS !== 'snapshots') return
  process.kill(broker.pid, 'SIGUSR1')
  await sleep(8_000)
}

async function measure(broker: BrokerProcess, fleet: Fleet, connectionsOnly = false): Promise<Figures> {
  await sleep(2_000)
  const restingBytes = rssBytes(broker.pid)
  await details(broker)

  // Idle connections: CPU over the whole connect phase, then memory once it has settled.
  const bytesPerConnection = new Map<number, number>()
  const idle: TLSSocket[] = []
  // A few connections first, so code either broker loads or compiles on first use is not counted.
  // Memory per connection is counted from after them too (one-off buffers, caches, code).
  await closeAll(await connectAll(broker.port, fleet.devices.slice(0, 20)))
  const baseBytes = rssBytes(broker.pid)
  const cpuBefore = cpuSeconds(broker.pid)
  let cpuPerConnectionMs = NaN
  for (const count of CONNECTIONS) {
    idle.push(...(await connectAll(broker.port, fleet.devices.slice(idle.length, count))))
    if (Number.isNaN(cpuPerConnectionMs)) cpuPerConnectionMs = ((cpuSeconds(broker.pid) - cpuBefore) * 1000) / idle.length
    await sleep(2_000)
    bytesPerConnection.set(count, (rssBytes(broker.pid) - baseBytes) / count)
    await details(broker)
  }
  await closeAll(idle)
  const throughput = new Map<number, Throughput>()
  if (!connectionsOnly) for (const window of WINDOWS) throughput.set(window, await measureThroughput(broker, fleet, window))
  return { restingBytes, cpuPerConnectionMs, bytesPerConnection, throughput }
}

/** QoS 0: publisher i feeds subscriber i on bench/i, `window` messages in flight per pair. */
async function measureThroughput(broker: BrokerProcess, fleet: Fleet, window: number): Promise<Throughput> {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 'x')
  let delivered = 0
  let sent = 0
  let running = true
  const publishers: TLSSocket[] = []
  const batches: Buffer[] = []
  const subscribers: TLSSocket[] = []
  for (let i = 0; i < PAIRS; i++) {
    const one = publishPacket(`bench/${i}`, payload)
    batches.push(Buffer.concat(Array.from({ length: window }, () => one)))
    const subscriber = await mqttConnect(broker.port, fleet.devices[i], (count) => {
      delivered += count
      if (!running) return
      sent += count
      publishers[i].write(batches[i].subarray(0, count * one.length))
    })
    subscriber.write(subscribePacket(`bench/${i}`))
    await once(subscriber, 'suback')
    subscribers.push(subscriber)
  }
  for (let i = 0; i < PAIRS; i++) publishers.push(await mqttConnect(broker.port, fleet.devices[PAIRS + i]))
  for (const [i, publisher] of publishers.entries()) {
    sent += window
    publisher.write(batches[i])
  }
  await sleep(1_000)
  const start = { time: performance.now(), delivered, cpu: cpuSeconds(broker.pid) }
  await sleep(SECONDS * 1_000)
  const seconds = (performance.now() - start.time) / 1000
  const messages = delivered - start.delivered
  const cpu = cpuSeconds(broker.pid) - start.cpu
  running = false
  await sleep(1_000)
  await closeAll([...publishers, ...subscribers])
  return { messagesPerSecond: messages / seconds, cpuPerMessageUs: (cpu / messages) * 1e6, lost: sent - delivered }
}

async function main(): Promise<void> {
  const needed = Math.max(...CONNECTIONS, 2 * PAIRS)
  if (DEVICES - CERTIFICATES < needed) throw new Error(`BENCH_BROKER_DEVICES must leave ${needed} token devices`)
  const folder = await mkdtemp(join(tmpdir(), 'certdesk-bench-broker-'))
  const started: BrokerProcess[] = []
  try {
    console.log(`broker: load average ${load()} before setup (2 cores shared: compare ratios, not absolute figures)`)
    const fleet = await makeFleet(folder)
    const results: Record<string, Figures> = {}
    const floor = () => startChildServer('node:tls', 'tls-floor', join(folder, 'mosquitto'))
    for (const start of [() => startMosquitto(fleet, folder), () => startEmbedded(fleet), floor]) {
      const broker = await start()
      started.push(broker)
      results[broker.name] = await measure(broker, fleet, broker.name === 'node:tls')
      await broker.stop()
      console.log(`broker: ${broker.name} measured, load average ${load()}`)
    }
    const ours = results.Certdesk
    const theirs = results.mosquitto
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
    let ok = true
    const line = (text: string, met?: boolean) => {
      if (met === false) ok = false
      console.log(`broker: ${text}${met === undefined ? '' : met ? '  met' : '  MISSED'}`)
    }
    line(
      `resting memory with ${DEVICES} devices, ${CERTIFICATES} certificates: ${mib(ours.restingBytes)} vs mosquitto ${mib(theirs.restingBytes)} ` +
        `(${ratio(ours.restingBytes, theirs.restingBytes)}; reported)`,
    )
    const bare = results['node:tls']
    line(
      `  runtime floor: node + tsx + Certdesk's modules, no registry: ${mib(bare.restingBytes)} (${ratio(bare.restingBytes, theirs.restingBytes)} mosquitto); ` +
        `the broker's own: ${mib(ours.restingBytes - bare.restingBytes)}`,
    )
    line(
      `broker CPU per TLS connection (handshake + CONNECT): ${ours.cpuPerConnectionMs.toFixed(3)} ms vs mosquitto ` +
        `${theirs.cpuPerConnectionMs.toFixed(3)} ms (${ratio(ours.cpuPerConnectionMs, theirs.cpuPerConnectionMs)}; reported)`,
    )
    line(
      `  floor: a bare node:tls server, same certificate: ${bare.cpuPerConnectionMs.toFixed(3)} ms (${ratio(bare.cpuPerConnectionMs, theirs.cpuPerConnectionMs)} mosquitto)`,
    )
    for (const count of CONNECTIONS) {
      const a = ours.bytesPerConnection.get(count) ?? NaN
      const b = theirs.bytesPerConnection.get(count) ?? NaN
      const c = bare.bytesPerConnection.get(count) ?? NaN
      line(`memory per idle TLS connection at ${count}: ${kib(a)} vs mosquitto ${kib(b)} (${ratio(a, b)}, target ≤ 1.50×)`, a <= 1.5 * b)
      line(`  floor: a bare node:tls server: ${kib(c)} (${ratio(c, b)} mosquitto)`)
    }
    for (const window of WINDOWS) {
      const a = ours.throughput.get(window)
      const b = theirs.throughput.get(window)
      if (!a || !b) continue
      line(
        `QoS 0, ${PAIRS} publishers → ${PAIRS} subscribers, ${window} in flight per pair: ${Math.round(a.messagesPerSecond)} msg/s vs mosquitto ` +
          `${Math.round(b.messagesPerSecond)} msg/s (${ratio(a.messagesPerSecond, b.messagesPerSecond)}, target ≥ 1.00×)`,
        a.messagesPerSecond >= b.messagesPerSecond,
      )
      line(
        `  broker CPU per message: ${a.cpuPerMessageUs.toFixed(1)} µs vs mosquitto ${b.cpuPerMessageUs.toFixed(1)} µs ` +
          `(${ratio(a.cpuPerMessageUs, b.cpuPerMessageUs)}); not delivered at the end: ${a.lost} vs ${b.lost}`,
      )
    }
    line(`load average ${load()} at the end  ${ok ? 'all targets met' : 'targets MISSED'}`)
    process.exitCode = ok ? 0 : 1
  } finally {
    for (const broker of started) await broker.stop()
    if (env.BENCH_BROKER_KEEP) console.log(`broker: fleet kept in ${folder}`)
    else await rm(folder, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'embedded-broker') await serveEmbeddedBroker(process.argv[3])
else if (process.argv[2] === 'tls-floor') serveTlsFloor(process.argv[3])
else await main()
