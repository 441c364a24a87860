import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { command, temporaryFolder } from '../../helpers/tools'
import { makeDeviceRequest } from '../../helpers/externalCa'
import { SEED_ECHO, runUntilEcho, seedScript } from '../../helpers/seedScripts'
import { type Fleet, makeFleet, runBroker } from '../../helpers/fleet'

let fleet: Fleet
let broker: RunningBroker

beforeAll(async () => {
  fleet = await makeFleet()
  broker = await runBroker(fleet.workspace)
})

describe("the seed's Python examples (paho-mqtt 1.x) against the embedded broker", () => {
  it('one-way TLS: client_id, username and device key, server verified against the root CA', async () => {
    const script = await seedScript(
      'one_way.py',
      [
        ["'6198289b38939358305813fe41551483b1f0'", `'${fleet.tokenDevice.deviceId}'`],
        ["'2312686198f5722ef570b855694655f1b475'", `'${fleet.tokenDevice.deviceKey}'`],
        ["'iot.actorcloud.io'", "'localhost'"],
        ['PORT = 8883', `PORT = ${broker.oneWay.port}`],
      ],
      fleet.bundleDir,
    )
    // The example trusts the system's CA store; point OpenSSL's default store at Certdesk's root.
    const output = await runUntilEcho(script, fleet.bundleDir, { SSL_CERT_FILE: join(fleet.bundleDir, 'common_certs/root_ca.crt') })
    expect(output).toContain('Connected with result code 0')
    expect(output).toContain(SEED_ECHO)
  })

  it('mutual TLS: the bundle from Certdesk, unpacked as the seed shows', async () => {
    const script = await seedScript(
      'two_way.py',
      [
        ["'ef14be2cfd2f555397bde858750cbda8'", `'${fleet.certDevice.deviceId}'`],
        ["'iot.actorcloud.io'", "'localhost'"],
        ['PORT = 8884', `PORT = ${broker.mutual.port}`],
      ],
      fleet.bundleDir,
    )
    const output = await runUntilEcho(script, fleet.bundleDir)
    expect(output).toContain('Connected with result code 0')
    expect(
      broker.log.recent().some((e) => e.listener === 'mutual' && e.clientId === fleet.certDevice.deviceId && e.result === 'accepted'),
    ).toBe(true)
  })

  it("mutual TLS with a certificate signed from the device's own request: the key never left the device", async () => {
    const device = await fleet.workspace.createDevice({ name: 'Own key', authType: 'cert', deviceId: 'own-key-paho-01' })
    // On the device: its key, where the seed's script reads it, and a request for it.
    const dir = await temporaryFolder('certdesk-csr-device-')
    await mkdir(join(dir, 'common_certs'))
    const keyPath = join(dir, 'common_certs/common.key')
    await makeDeviceRequest(keyPath, join(dir, 'device.csr'), ['-subj', '/CN=device'])
    const key = await readFile(keyPath, 'utf8')
    const signed = await fleet.workspace.signCertificateRequest({
      csr: await readFile(join(dir, 'device.csr'), 'utf8'),
      name: 'Own key',
      device: device.deviceId,
    })
    // The bundle, unpacked over the device's folder: certificate and root arrive, the key stays.
    await writeFile(join(dir, 'bundle.zip'), await fleet.workspace.exportDeviceBundle(signed.certificate.id))
    await command('unzip', ['-oq', 'bundle.zip'], dir)
    expect(await readFile(keyPath, 'utf8')).toBe(key)
    const script = await seedScript(
      'two_way.py',
      [
        ["'ef14be2cfd2f555397bde858750cbda8'", `'${device.deviceId}'`],
        ["'iot.actorcloud.io'", "'localhost'"],
        ['PORT = 8884', `PORT = ${broker.mutual.port}`],
      ],
      dir,
    )
    const output = await runUntilEcho(script, dir)
    expect(output).toContain('Connected with result code 0')
    expect(broker.log.recent().some((e) => e.listener === 'mutual' && e.clientId === device.deviceId && e.result === 'accepted')).toBe(true)
  })
})
