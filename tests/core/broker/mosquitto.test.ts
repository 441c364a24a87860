import { execFile } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { Workspace } from '../../../src-main/core/workspace'
import { type Fleet, makeFleet, runBroker, unpackBundle } from '../../helpers/fleet'
import { startMosquitto } from '../../helpers/mosquitto'
import { command, runCertdeskJson } from '../../helpers/tools'

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
  let done = false
  const finish = () => (done = true)
  received.then(finish, finish)
  // The subscription lands at a moment we cannot see: publish until the subscriber has its message.
  while (!done) {
    await run('mosquitto_pub', [...base, ...publisher, '-m', '{"hello": "world"}'])
    await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 300))])
  }
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

describe('a real mosquitto broker configured from Certdesk', () => {
  it('accepts a device with its Certdesk bundle and refuses one from another CA', async () => {
    // The broker's identity, exported through the CLI as an operator would.
    const brokerZip = join(fleet.folder, 'broker.zip')
    await runCertdeskJson(['--data', fleet.workspace.dataDir, 'broker', 'export', '--out', brokerZip])
    const unpacked = join(fleet.folder, 'broker-export')
    await mkdir(unpacked, { recursive: true })
    await command('unzip', ['-oq', brokerZip], unpacked)
    const read = (name: string) => readFile(join(unpacked, 'broker_certs', name), 'utf8')
    const mosquitto = await startMosquitto({
      caPem: await read('root_ca.crt'),
      certificatePem: await read('server.crt'),
      privateKeyPem: await read('server.key'),
      requireCertificate: true,
    })
    const device = [
      '-h',
      'localhost',
      '-p',
      String(mosquitto.port),
      '--cafile',
      join(certs, 'root_ca.crt'),
      '-i',
      fleet.certDevice.deviceId,
      '-u',
      fleet.certDevice.username,
    ]
    const published = await run('mosquitto_pub', [
      ...device,
      '--cert',
      join(certs, 'common.crt'),
      '--key',
      join(certs, 'common.key'),
      '-t',
      '/hello',
      '-m',
      'hi',
      '-d',
    ])
    expect(published.stdout).toContain('received CONNACK (0)')

    const stranger = await Workspace.initialise(join(fleet.folder, 'stranger-data'), { keyType: 'ec-p256' })
    const strangerCertificate = await stranger.issueDeviceCertificate({ name: 'Stranger' })
    const strangerDir = join(await unpackBundle(stranger, strangerCertificate.id, join(fleet.folder, 'stranger')), 'common_certs')
    const refused = await run('mosquitto_pub', [
      ...device,
      '--cert',
      join(strangerDir, 'common.crt'),
      '--key',
      join(strangerDir, 'common.key'),
      '-t',
      '/hello',
      '-m',
      'hi',
    ])
      .then(() => 'accepted')
      .catch(() => 'refused')
    expect(refused).toBe('refused')
  })
})
