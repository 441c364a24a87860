import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { Workspace } from '../../../src-main/core/workspace'
import { type Fleet, makeFleet, runBroker, unpackBundle } from '../../helpers/fleet'
import { command, freePort, runCertdeskJson, temporaryFolder } from '../../helpers/tools'

const run = promisify(execFile)
let fleet: Fleet
let broker: RunningBroker
let certs: string

beforeAll(async () => {
  fleet = await makeFleet()
  broker = await runBroker(fleet.workspace)
  certs = join(fleet.bundleDir, 'common_certs')
})

/** mosquitto_sub waits for one message on /hello while mosquitto_pub sends it; returns what sub printed. */
async function publishAndReceive(port: number, subscriber: string[], publisher: string[]): Promise<string> {
  const base = ['-h', 'localhost', '-p', String(port), '--cafile', join(certs, 'root_ca.crt'), '-t', '/hello']
  const received = run('mosquitto_sub', [...base, ...subscriber, '-C', '1', '-W', '10'])
  // Give the subscription a moment to land before publishing.
  await new Promise((resolve) => setTimeout(resolve, 500))
  await run('mosquitto_pub', [...base, ...publisher, '-m', '{"hello": "world"}'])
  return (await received).stdout
}

const as = (device: { deviceId: string; username: string }) => ['-i', device.deviceId, '-u', device.username]

describe('mosquitto clients against the embedded broker, with the exported bundle', () => {
  it('one-way TLS with username and device key', async () => {
    const publisher = await fleet.workspace.createDevice({ name: 'Publisher', authType: 'token', deviceId: 'token-device-02' })
    const output = await publishAndReceive(
      broker.oneWay.port,
      [...as(fleet.tokenDevice), '-P', fleet.tokenDevice.deviceKey],
      [...as(publisher), '-P', publisher.deviceKey],
    )
    expect(output).toBe('{"hello": "world"}\n')
  })

  it('mutual TLS with common.crt and common.key', async () => {
    // One certificate may serve several devices: a second one publishes with the same bundle.
    const publisher = await fleet.workspace.createDevice({ name: 'Publisher 2', authType: 'cert', deviceId: 'cert-device-pub' })
    await fleet.workspace.bindDevices(fleet.certificate.id, [publisher.deviceId])
    const files = ['--cert', join(certs, 'common.crt'), '--key', join(certs, 'common.key')]
    const output = await publishAndReceive(broker.mutual.port, [...as(fleet.certDevice), ...files], [...as(publisher), ...files])
    expect(output).toBe('{"hello": "world"}\n')
  })
})


async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${output()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`mosquitto did not listen on ${port}: ${output()}`)
}

describe('a real mosquitto broker configured from Certdesk', () => {
  let mosquitto: ChildProcess | undefined
  afterAll(() => mosquitto?.kill())

  it('accepts a device with its Certdesk bundle and refuses one from another CA', async () => {
    // The broker's identity, exported through the CLI as an operator would.
    const brokerZip = join(fleet.folder, 'broker.zip')
    await runCertdeskJson(['--data', fleet.workspace.dataDir, 'broker', 'export', '--out', brokerZip])
    // mosquitto drops to its own user: everything it reads must be readable by others.
    const confDir = join(await temporaryFolder('certdesk-mosquitto-'), 'conf')
    await mkdir(confDir, { recursive: true })
    await command('unzip', ['-oq', brokerZip], confDir)
    await chmod(join(confDir, '..'), 0o755)
    await chmod(confDir, 0o755)
    await chmod(join(confDir, 'broker_certs'), 0o755)
    for (const file of ['server.crt', 'server.key', 'root_ca.crt']) await chmod(join(confDir, 'broker_certs', file), 0o644)
    const port = await freePort()
    const config = join(confDir, 'mosquitto.conf')
    await writeFile(
      config,
      [
        'per_listener_settings true',
        `listener ${port} 127.0.0.1`,
        `cafile ${join(confDir, 'broker_certs/root_ca.crt')}`,
        `certfile ${join(confDir, 'broker_certs/server.crt')}`,
        `keyfile ${join(confDir, 'broker_certs/server.key')}`,
        'require_certificate true',
        'allow_anonymous true',
        'log_dest stderr',
        '',
      ].join('\n'),
    )
    await chmod(config, 0o644)
    let output = ''
    mosquitto = spawn('mosquitto', ['-c', config])
    mosquitto.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    mosquitto.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await waitForPort(port, mosquitto, () => output)

    const device = ['-h', 'localhost', '-p', String(port), '--cafile', join(certs, 'root_ca.crt'), '-i', fleet.certDevice.deviceId, '-u', fleet.certDevice.username]
    const published = await run('mosquitto_pub', [...device, '--cert', join(certs, 'common.crt'), '--key', join(certs, 'common.key'), '-t', '/hello', '-m', 'hi', '-d'])
    expect(published.stdout).toContain('received CONNACK (0)')

    const stranger = await Workspace.initialise(join(fleet.folder, 'stranger-data'), { keyType: 'ec-p256' })
    const strangerCertificate = await stranger.issueDeviceCertificate({ name: 'Stranger' })
    const strangerDir = join(await unpackBundle(stranger, strangerCertificate.id, join(fleet.folder, 'stranger')), 'common_certs')
    const refused = await run('mosquitto_pub', [...device, '--cert', join(strangerDir, 'common.crt'), '--key', join(strangerDir, 'common.key'), '-t', '/hello', '-m', 'hi'])
      .then(() => 'accepted')
      .catch(() => 'refused')
    expect(refused).toBe('refused')
    expect(await readFile(join(confDir, 'broker_certs/server.crt'), 'utf8')).toContain('BEGIN CERTIFICATE')
  })
})
