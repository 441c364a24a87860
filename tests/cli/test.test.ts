import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { issueCertificate } from '../../src-main/core/pki/certificates'
import { exportPrivateKeyPem, generateKeyPair } from '../../src-main/core/pki/keys'
import type { RunningBroker } from '../../src-main/core/broker/broker'
import { type Fleet, makeFleet, runBrokerAsSettings, issuerOf } from '../helpers/fleet'
import { startMosquitto } from '../helpers/mosquitto'
import { runCertdesk } from '../helpers/tools'

let fleet: Fleet
let broker: RunningBroker
const cd = (...args: string[]) => runCertdesk(['--data', fleet.workspace.dataDir, ...args])

beforeAll(async () => {
  fleet = await makeFleet()
  broker = await runBrokerAsSettings(fleet.workspace)
})

describe('certdesk test', () => {
  it('passes for each device on its own port and exits 0', async () => {
    const oneWay = await cd('test', '--device', fleet.tokenDevice.deviceId)
    expect(oneWay.code, oneWay.stderr).toBe(0)
    expect(oneWay.stdout).toMatch(
      new RegExp(`^PASS  token-device-01 at localhost:${broker.oneWay.port}: connected in \\d+ ms, /hello came back in \\d+ ms`),
    )
    const mutual = await cd('test', '--device', fleet.certDevice.deviceId, '--json')
    expect(mutual.code).toBe(0)
    expect(JSON.parse(mutual.stdout)).toMatchObject({ pass: true, port: broker.mutual.port, clientId: 'cert-device-01' })
  })

  it("fails with the diagnosis and the broker's reason, and exits 1", async () => {
    const result = await cd('test', '--device', fleet.certDevice.deviceId, '--port', String(broker.oneWay.port))
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('FAIL  cert-device-01')
    expect(result.stdout).toContain('Broker says: device cert-device-01 uses certificate authentication; connect on the mutual-TLS port')
    expect(result.stdout).toMatch(/Next step: /)
    const usage = await cd('test', '--bundle', 'x.zip')
    expect(usage.code).toBe(2)
    expect(usage.stderr).toBe('certdesk: With --bundle, give --device-id, --port and --host too.\n')
  })

  it("tests a bundle zip against a broker other than Certdesk's (mosquitto)", async () => {
    const issuer = await issuerOf(fleet.workspace)
    const keys = await generateKeyPair('ec-p256')
    const server = issueCertificate({
      commonName: 'localhost',
      publicKey: keys.publicKey,
      subjectKeyType: 'ec-p256',
      issuer,
      days: 30,
      profile: { kind: 'server', names: ['localhost'] },
    })
    const mosquitto = await startMosquitto({
      caPem: fleet.rootPem,
      certificatePem: server.pem,
      privateKeyPem: exportPrivateKeyPem(keys.privateKey),
      requireCertificate: true,
    })
    const zip = join(fleet.folder, 'for-mosquitto.zip')
    await writeFile(zip, await fleet.workspace.exportDeviceBundle(fleet.certificate.id))
    const result = await runCertdesk([
      'test',
      '--bundle',
      zip,
      '--device-id',
      'cert-device-01',
      '--username',
      'cert-device-01',
      '--port',
      String(mosquitto.port),
      '--host',
      'localhost',
    ])
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^PASS {2}cert-device-01 at localhost:\d+/)
  })
})
