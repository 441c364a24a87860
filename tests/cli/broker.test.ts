import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer, connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Fleet, connect, makeFleet } from '../helpers/fleet'
import { PROJECT_ROOT, freePort, runCertdesk, runCertdeskJson } from '../helpers/tools'

let fleet: Fleet

beforeAll(async () => {
  fleet = await makeFleet()
})

interface BrokerLine {
  host: string
  oneWay: { port: number; listening: boolean; error?: string }
  mutual: { port: number; listening: boolean; error?: string }
  serverCertificate: { names: string[]; fingerprint256: string }
}

/** Starts `certdesk broker` and resolves with its one line of output and the process. */
function startCliBroker(args: string[]) {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/certdesk.mjs'), '--data', fleet.workspace.dataDir, 'broker', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.includes('\n') && (!args.includes('--json') || stdout.trimEnd().endsWith('}'))) resolve(stdout)
    })
    void exited.then((code) => reject(new Error(`broker exited ${code}: ${stderr}`)))
  })
  // A broker that is meant to fail never prints its line; that is not an error of the test.
  firstLine.catch(() => undefined)
  return { child, firstLine, exited, stderr: () => stderr }
}


const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })

describe('certdesk broker', () => {
  it('runs in the foreground, logs attempts for `broker log`, and stops cleanly on SIGTERM', async () => {
    const broker = startCliBroker(['--one-way-port', '0', '--mutual-port', '0', '--server-name', 'bench-broker.local', '--json'])
    const line = JSON.parse(await broker.firstLine) as BrokerLine
    expect(line.oneWay.listening && line.mutual.listening).toBe(true)
    expect(line.serverCertificate.names).toContain('bench-broker.local')
    const ca = await readFile(join(fleet.bundleDir, 'common_certs/root_ca.crt'))
    const client = await connect(line.oneWay.port, {
      clientId: fleet.tokenDevice.deviceId,
      username: fleet.tokenDevice.username,
      password: fleet.tokenDevice.deviceKey,
      ca,
    })
    await connect(line.oneWay.port, { clientId: fleet.tokenDevice.deviceId, username: 'wrong', password: 'wrong', ca }).catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const log = await runCertdeskJson<{ result: string; reason?: string; clientId: string }[]>(['--data', fleet.workspace.dataDir, 'broker', 'log'])
    expect(log.slice(-2)).toEqual([
      expect.objectContaining({ clientId: fleet.tokenDevice.deviceId, result: 'accepted' }),
      expect.objectContaining({ clientId: fleet.tokenDevice.deviceId, result: 'refused', reason: 'wrong username for device token-device-01' }),
    ])

    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    broker.child.kill('SIGTERM')
    expect(await broker.exited).toBe(0)
    await closed
    expect(await portOpen(line.oneWay.port)).toBe(false)
    expect(await portOpen(line.mutual.port)).toBe(false)
  })

  it('saves settings that later runs (and the desktop app) use, refusing bad ones', async () => {
    const [oneWayPort, mutualPort] = [await freePort(), await freePort()]
    const data = ['--data', fleet.workspace.dataDir]
    const saved = await runCertdeskJson(['--data', fleet.workspace.dataDir, 'broker', 'settings', '--one-way-port', String(oneWayPort), '--mutual-port', String(mutualPort)])
    expect(saved).toEqual({ host: '127.0.0.1', oneWayPort, mutualPort, extraNames: [] })
    const refused = await runCertdesk([...data, 'broker', 'settings', '--mutual-port', String(oneWayPort)])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(`certdesk: The one-way and mutual ports must differ (both are ${oneWayPort}).\n`)
    expect((await runCertdesk([...data, 'broker', 'settings', '--host', 'not an address'])).stderr).toMatch(/not an address to listen on/)
    expect((await runCertdesk([...data, 'broker', 'settings', '--one-way-port', '70000'])).stderr).toMatch(/not a port number/)

    const broker = startCliBroker(['--json'])
    const line = JSON.parse(await broker.firstLine) as BrokerLine
    expect([line.oneWay.port, line.mutual.port]).toEqual([oneWayPort, mutualPort])
    broker.child.kill('SIGINT')
    expect(await broker.exited).toBe(0)
  })

  it('names a port in use and runs the other listener; refuses to run with neither', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const taken = (blocker.address() as { port: number }).port
    const half = startCliBroker(['--one-way-port', String(taken), '--mutual-port', '0'])
    const text = await half.firstLine
    expect(text).toMatch(/one-way TLS not running, mutual TLS on 127\.0\.0\.1:\d+/)
    expect(half.stderr()).toBe(`certdesk: port ${taken} on 127.0.0.1 is already in use, so the one-way TLS listener is not running.\n`)
    half.child.kill('SIGINT')
    expect(await half.exited).toBe(0)

    const none = startCliBroker(['--one-way-port', String(taken), '--mutual-port', String(taken)])
    expect(await none.exited).toBe(1)
    expect(none.stderr().trimEnd().split('\n').at(-1)).toBe('certdesk: Neither listener could start, so the broker is not running.')
    blocker.close()
  })
})
