import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { type Socket, connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls'
import mqttPacket from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { rateLimitKey } from '../../../src-main/core/broker/listeners'
import { readConnectionLog } from '../../../src-main/core/broker/connectionLog'
import { type Fleet, closedWithin, connect, helloRoundTrip, makeFleet, runBroker } from '../../helpers/fleet'
import { PROJECT_ROOT } from '../../helpers/tools'

let fleet: Fleet
let ca: Buffer

beforeAll(async () => {
  fleet = await makeFleet()
  ca = await readFile(join(fleet.bundleDir, 'common_certs/root_ca.crt'))
})

const deviceOptions = () => ({
  clientId: fleet.tokenDevice.deviceId,
  username: fleet.tokenDevice.username,
  password: fleet.tokenDevice.deviceKey,
  ca,
})
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A TLS connection to the one-way port; resolves once the handshake is done. */
function tlsOpen(port: number, extra: Partial<ConnectionOptions> & { localAddress?: string } = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca, ...extra }, () => resolve(socket))
    socket.on('error', reject)
    socket.on('close', () => reject(new Error('closed before the TLS handshake finished')))
  })
}

/** Resolves with how long the server took to close the socket; rejects after `ms`. */
function closesWithin(socket: Socket, ms: number): Promise<number> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0)
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms)
    socket.on('error', () => undefined)
    socket.resume()
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Date.now() - start)
    })
  })
}

/** A device that connects, subscribes /hello, publishes and hears it back. */
async function deviceRoundTrip(port: number): Promise<void> {
  const client = await connect(port, deviceOptions())
  expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
  await client.endAsync()
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1])
}

describe('oversized packets', () => {
  let child: ChildProcess | undefined
  afterAll(async () => {
    if (!child || child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  })

  it('a CONNECT declaring 268,435,455 bytes is closed at its fixed header and logged; the broker process stays small', async () => {
    // `certdesk broker` in a process of its own, with its default limits, so its memory is its own.
    const memoryFleet = await makeFleet()
    child = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, 'bin/certdesk.mjs'),
        '--data',
        memoryFleet.workspace.dataDir,
        'broker',
        '--one-way-port',
        '0',
        '--mutual-port',
        '0',
        '--json',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const pid = child.pid as number
    let stdout = ''
    const line = await new Promise<{ oneWay: { port: number } }>((resolve, reject) => {
      child?.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stdout.trimEnd().endsWith('}')) resolve(JSON.parse(stdout))
      })
      child?.on('exit', (code) => reject(new Error(`broker exited ${code}`)))
    })
    const port = line.oneWay.port
    const memoryCa = await readFile(join(memoryFleet.bundleDir, 'common_certs/root_ca.crt'))
    // Warm up TLS and aedes once, then measure.
    const warm = await connect(port, {
      clientId: memoryFleet.tokenDevice.deviceId,
      username: memoryFleet.tokenDevice.username,
      password: memoryFleet.tokenDevice.deviceKey,
      ca: memoryCa,
    })
    await warm.endAsync()
    await sleep(300)
    const before = rssKiB(pid)

    // Each attacker declares the largest packet MQTT allows, then sends body bytes as fast as the
    // socket takes them: for at most 4 s or 32 MB, whichever comes first, or until closed.
    const attackers = Array.from({ length: 16 }, async () => {
      const socket = await tlsOpen(port, { ca: memoryCa })
      const closed = closesWithin(socket, 5000)
      socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
      const chunk = Buffer.alloc(64 * 1024)
      const deadline = Date.now() + 4000
      let sent = 0
      while (!socket.destroyed && Date.now() < deadline && sent < 32 * 1024 * 1024) {
        sent += chunk.length
        if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), sleep(100)])
      }
      const closedAfterMs = await closed.catch(() => Infinity)
      socket.destroy()
      return closedAfterMs
    })
    const closedAfter = await Promise.all(attackers)
    await sleep(500)
    const after = rssKiB(pid)
    console.log(`broker RSS before ${Math.round(before / 1024)} MB, after the 16 oversized CONNECTs ${Math.round(after / 1024)} MB`)

    // Closed at once, not after the 10 s CONNECT timeout.
    for (const ms of closedAfter) expect(ms).toBeLessThan(2000)
    expect(after - before).toBeLessThan(100 * 1024)
    await sleep(200)
    const logged = (await readConnectionLog(memoryFleet.workspace.dataDir)).filter((entry) => entry.reason?.startsWith('packet of'))
    expect(logged).toHaveLength(16)
    expect(logged[0]).toMatchObject({
      result: 'refused',
      listener: 'one-way',
      remoteAddress: '127.0.0.1',
      reason: 'packet of 268435460 bytes exceeds the 65536-byte limit for a CONNECT',
    })

    // And the broker still serves.
    const client = await connect(port, {
      clientId: memoryFleet.tokenDevice.deviceId,
      username: memoryFleet.tokenDevice.username,
      password: memoryFleet.tokenDevice.deviceKey,
      ca: memoryCa,
    })
    expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
    await client.endAsync()
  })

  it('a connected device publishing 5 MB is disconnected and nobody receives it; 100 KB is delivered', async () => {
    const broker = await runBroker(fleet.workspace)
    const listener = await connect(broker.mutual.port, {
      clientId: fleet.certDevice.deviceId,
      username: fleet.certDevice.username,
      ...(await bundleFiles()),
    })
    const received: number[] = []
    listener.on('message', (_topic, payload) => received.push(payload.length))
    await listener.subscribeAsync('/hello', { qos: 1 })

    const sender = await connect(broker.oneWay.port, deviceOptions())
    await sender.publishAsync('/hello', Buffer.alloc(100 * 1024, 1), { qos: 1 })
    await expect.poll(() => received).toEqual([100 * 1024])

    const dropped = closedWithin(sender, 3000)
    sender.publish('/hello', Buffer.alloc(5 * 1024 * 1024, 2), { qos: 0 }, () => undefined)
    await dropped
    await sleep(500)
    expect(received).toEqual([100 * 1024])
    expect(broker.log.recent().at(-1)).toMatchObject({
      result: 'disconnected',
      clientId: fleet.tokenDevice.deviceId,
      // Type byte, 4 length bytes, topic length and "/hello", payload.
      reason: `packet of ${1 + 4 + 2 + 6 + 5 * 1024 * 1024} bytes exceeds the 262144-byte limit`,
    })
    expect(listener.connected).toBe(true)
    await listener.endAsync()
    await sender.endAsync(true)
  })
})

async function bundleFiles() {
  const dir = join(fleet.bundleDir, 'common_certs')
  return { ca, cert: await readFile(join(dir, 'common.crt')), key: await readFile(join(dir, 'common.key')) }
}

describe('connection limits at TCP accept', () => {
  it('a flood from one address beyond its rate is refused and logged once; a device elsewhere is served throughout', async () => {
    const broker: RunningBroker = await runBroker(fleet.workspace, { connectRatePerAddress: 10 })
    const port = broker.oneWay.port
    const since = Date.now() - 1
    let handshakes = 0
    let refused = 0
    const flood = async () => {
      // Three waves of 40 connections from 127.0.0.2, each kept open until the end.
      const opened: TLSSocket[] = []
      for (let wave = 0; wave < 3; wave++) {
        const results = await Promise.allSettled(Array.from({ length: 40 }, () => tlsOpen(port, { localAddress: '127.0.0.2' })))
        for (const result of results) {
          if (result.status === 'fulfilled') {
            handshakes += 1
            opened.push(result.value)
          } else {
            refused += 1
          }
        }
        await sleep(100)
      }
      return opened
    }
    const flooding = flood()
    // The device on 127.0.0.1 connects, publishes and receives while the flood runs, and after
    // (one at a time: a second connection with the same client id would take the session over).
    let servedDuringFlood = 0
    const device = (async () => {
      for (let i = 0; i < 3; i++) {
        await deviceRoundTrip(port)
        servedDuringFlood += 1
      }
    })()
    const [opened] = await Promise.all([flooding, device])
    await deviceRoundTrip(port)
    expect(servedDuringFlood).toBe(3)

    expect(handshakes).toBe(10)
    expect(refused).toBe(110)
    await broker.log.flushed()
    const refusals = broker.log.recent().filter((entry) => Date.parse(entry.time) >= since && entry.remoteAddress === '127.0.0.2')
    expect(refusals).toEqual([
      expect.objectContaining({
        result: 'refused',
        reason:
          'connection rate limit: more than 10 connections from 127.0.0.2 in 10 s (connectRatePerAddress); further refusals like it are not logged for 10 s',
      }),
    ])
    for (const socket of opened) socket.destroy()
  })

  it('connections beyond maxConnections are refused until one closes', async () => {
    const broker = await runBroker(fleet.workspace, { maxConnections: 5 })
    const port = broker.oneWay.port
    const held = await Promise.all(Array.from({ length: 5 }, () => tlsOpen(port)))
    await expect(tlsOpen(port)).rejects.toThrow()
    await expect(connect(port, deviceOptions())).rejects.toThrow()
    await broker.log.flushed()
    expect(broker.log.recent().at(-1)).toMatchObject({
      result: 'refused',
      remoteAddress: '127.0.0.1',
      reason: 'connection limit: 5 connections are open (maxConnections); further refusals like it are not logged for 10 s',
    })
    held[0].destroy()
    // Served as soon as the broker has seen that connection close.
    await expect
      .poll(
        () =>
          deviceRoundTrip(port).then(
            () => true,
            () => false,
          ),
        { timeout: 3000 },
      )
      .toBe(true)
    for (const socket of held) socket.destroy()
  })
})

describe('slow clients', () => {
  it('silent sockets, silent TLS sessions and trickled CONNECTs are dropped at the timeouts; a device is served meanwhile', async () => {
    const broker = await runBroker(fleet.workspace, { handshakeTimeoutMs: 500, connectTimeoutMs: 500 })
    const port = broker.oneWay.port
    const since = Date.now() - 1
    const silentTcp = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = tcpConnect(port, '127.0.0.1', () => resolve(socket))
            socket.on('error', reject)
          }),
      ),
    )
    const silentTls = await Promise.all(Array.from({ length: 5 }, () => tlsOpen(port)))
    const trickling = await Promise.all(Array.from({ length: 3 }, () => tlsOpen(port)))
    // One byte of a CONNECT every 100 ms, at most 30 bytes.
    const connectPacket = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'slow-client-0001',
      keepalive: 30,
    })
    const timers = trickling.map((socket) => {
      let sent = 0
      const timer = setInterval(() => {
        if (socket.destroyed || sent >= 30) return clearInterval(timer)
        socket.write(connectPacket.subarray(sent, sent + 1))
        sent += 1
      }, 100)
      return timer
    })
    const closed = Promise.all([...silentTcp, ...silentTls, ...trickling].map((socket) => closesWithin(socket, 3000)))
    await deviceRoundTrip(port)
    const times = await closed
    timers.forEach(clearInterval)
    await deviceRoundTrip(port)
    expect(Math.max(...times)).toBeLessThan(2000)

    await broker.log.flushed()
    const reasons = broker.log
      .recent()
      .filter((entry) => Date.parse(entry.time) >= since && entry.result === 'refused')
      .map((entry) => entry.reason)
    expect(reasons.filter((reason) => reason === 'TLS handshake failed (ERR_TLS_HANDSHAKE_TIMEOUT)')).toHaveLength(5)
    expect(reasons.filter((reason) => reason === 'no CONNECT within 0.5 s of the TLS handshake')).toHaveLength(8)
  })
})

describe('the connect rate is counted per IPv4 address and per IPv6 /64', () => {
  it('puts every address of one /64 under one key', () => {
    expect(rateLimitKey('127.0.0.2')).toBe('127.0.0.2')
    expect(rateLimitKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64')
    expect(rateLimitKey('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64')
    expect(rateLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(rateLimitKey('::1')).toBe('0:0:0:0::/64')
    expect(rateLimitKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
  })
})
