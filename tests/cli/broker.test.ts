import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer, connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Fleet, connect, makeFleet, runBroker } from '../helpers/fleet'
import { PROJECT_ROOT, freePort, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

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
    await connect(line.oneWay.port, { clientId: fleet.tokenDevice.deviceId, username: 'wrong', password: 'wrong', ca }).catch(
      () => undefined,
    )
    await new Promise((resolve) => setTimeout(resolve, 200))
    const log = await runCertdeskJson<{ result: string; reason?: string; clientId: string }[]>([
      '--data',
      fleet.workspace.dataDir,
      'broker',
      'log',
    ])
    expect(log.slice(-2)).toEqual([
      expect.objectContaining({ clientId: fleet.tokenDevice.deviceId, result: 'accepted' }),
      expect.objectContaining({
        clientId: fleet.tokenDevice.deviceId,
        result: 'refused',
        reason: 'wrong username for device token-device-01',
      }),
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
    const saved = await runCertdeskJson([
      '--data',
      fleet.workspace.dataDir,
      'broker',
      'settings',
      '--one-way-port',
      String(oneWayPort),
      '--mutual-port',
      String(mutualPort),
    ])
    expect(saved).toEqual({
      host: '127.0.0.1',
      oneWayPort,
      mutualPort,
      extraNames: [],
      maxPacketBytes: 262_144,
      maxConnections: 1000,
      connectRatePerAddress: 200,
    })
    const limits = await runCertdeskJson([
      ...data,
      'broker',
      'settings',
      '--max-packet-bytes',
      '1048576',
      '--max-connections',
      '50',
      '--connect-rate',
      '500',
    ])
    expect(limits).toMatchObject({ oneWayPort, maxPacketBytes: 1_048_576, maxConnections: 50, connectRatePerAddress: 500 })
    expect((await runCertdesk([...data, 'broker', 'settings', '--max-packet-bytes', '100'])).stderr).toBe(
      'certdesk: The maximum packet size (bytes) must be a whole number from 1024 to 268435455.\n',
    )
    expect((await runCertdesk([...data, 'broker', 'settings', '--max-connections', '0'])).stderr).toMatch(
      /maximum number of connections must be a whole number from 1/,
    )
    expect((await runCertdesk([...data, 'broker', 'settings', '--connect-rate', 'many'])).stderr).toMatch(
      /"many" is not a number of connections/,
    )
    expect((await runCertdesk([...data, 'broker', 'settings'])).stdout).toMatch(
      /Maximum packet size: 1048576 bytes[\s\S]*Maximum connections: 50\nConnections per address: 500 per 10 s/,
    )
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

describe('certdesk broker acl', () => {
  it('shows, replaces and resets the topic rules; a running broker applies a change without a restart', async () => {
    const data = ['--data', fleet.workspace.dataDir]
    const defaults = [
      { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
      { action: 'all', topic: '/hello', permission: 'allow' },
    ]
    const shown = await runCertdesk([...data, 'broker', 'acl'])
    expect(shown.stdout).toMatch(
      /^#\s+ACTION\s+TOPIC\s+PERMISSION\n1\s+all\s+devices\/\$\{clientid\}\/#\s+allow\n2\s+all\s+\/hello\s+allow\n/,
    )
    expect(shown.stdout).toMatch(/Anything no rule matches is denied\. These are the default rules\./)
    expect(await runCertdeskJson([...data, 'broker', 'acl'])).toEqual(defaults)

    const broker = await runBroker(fleet.workspace)
    const client = await connect(broker.oneWay.port, {
      clientId: fleet.tokenDevice.deviceId,
      username: fleet.tokenDevice.username,
      password: fleet.tokenDevice.deviceKey,
      ca: await readFile(join(fleet.bundleDir, 'common_certs/root_ca.crt')),
    })
    await expect(client.subscribeAsync('plant/#')).rejects.toThrow()

    const folder = await temporaryFolder()
    const rulesFile = join(folder, 'rules.json')
    const wanted = [...defaults, { action: 'subscribe', topic: 'plant/#', permission: 'allow' }]
    await writeFile(rulesFile, JSON.stringify(wanted))
    expect(await runCertdeskJson([...data, 'broker', 'acl', 'set', '--file', rulesFile])).toEqual(wanted)
    await expect
      .poll(
        async () =>
          client.subscribeAsync('plant/#').then(
            () => true,
            () => false,
          ),
        // How soon is bench/registryNotice's to judge; a loaded machine must not fail this.
        { timeout: 5000, interval: 50 },
      )
      .toBe(true)
    expect(client.connected).toBe(true)
    await client.endAsync()
    expect((await runCertdesk([...data, 'broker', 'acl'])).stdout).not.toMatch(/default rules/)

    // Nothing is saved unless every rule is valid.
    await writeFile(rulesFile, JSON.stringify([...defaults, { action: 'all', topic: '#/x', permission: 'allow' }]))
    const invalid = await runCertdesk([...data, 'broker', 'acl', 'set', '--file', rulesFile])
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toBe('certdesk: Topic rule 3: "#/x" is not an MQTT topic filter (# must be a whole level, and the last one).\n')
    await writeFile(rulesFile, '[{')
    expect((await runCertdesk([...data, 'broker', 'acl', 'set', '--file', rulesFile])).stderr).toMatch(/rules\.json is not valid JSON/)
    expect(await runCertdeskJson([...data, 'broker', 'acl'])).toEqual(wanted)

    expect(await runCertdeskJson([...data, 'broker', 'acl', 'reset'])).toEqual(defaults)
    expect(fleet.workspace.snapshot().broker?.topicRules).toBeUndefined()
  })
})
