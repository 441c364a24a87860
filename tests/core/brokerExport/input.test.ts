// What an export is made from: the registry read in the main process, the broker's certificate
// for the given names, a CRL that lists the revoked, and the token devices' keys (to be hashed).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { exportForBroker } from '../../../src-main/core/brokerExport'
import { BROKER_TARGETS, type BrokerExportInput, commonFiles } from '../../../src-main/core/brokerExport/types'
import { type Fleet, makeFleet } from '../../helpers/fleet'
import { openssl } from '../../helpers/tools'

let fleet: Fleet
let input: BrokerExportInput
let revokedSerial: string

beforeAll(async () => {
  fleet = await makeFleet()
  const spare = await fleet.workspace.issueDeviceCertificate({ name: 'Spare' })
  await fleet.workspace.bindDevices(spare.id, [fleet.certDevice.deviceId])
  await fleet.workspace.revokeCertificate(spare.id, 'keyCompromise')
  revokedSerial = spare.serial
  input = await fleet.workspace.brokerExportInput(['mqtt.example.com'])
})

describe('the input of an export', () => {
  it("holds the token devices' keys, the certificate devices with every bound certificate, and the rules", async () => {
    expect(input.tokenDevices).toEqual([
      {
        deviceId: 'token-device-01',
        username: fleet.tokenDevice.username,
        deviceKey: await fleet.workspace.revealDeviceKey('token-device-01'),
      },
    ])
    expect(input.certificateDevices).toHaveLength(1)
    const [device] = input.certificateDevices
    expect(device.deviceId).toBe('cert-device-01')
    expect(device.certificates.map((certificate) => [certificate.serial, certificate.status])).toEqual([
      [fleet.certificate.serial, 'active'],
      [revokedSerial, 'revoked'],
    ])
    expect(input.topicRules.length).toBeGreaterThan(0)
    expect(input.ports).toEqual({ oneWay: 8883, mutual: 8884 })
  })

  it("names the hosts in the broker's certificate, chained to the CA, and lists the revoked in the CRL", async () => {
    const dir = fleet.folder
    await writeFile(join(dir, 'export-ca.crt'), input.caPem)
    await writeFile(join(dir, 'export-server.crt'), input.server.certificatePem)
    await writeFile(join(dir, 'export-crl.pem'), input.crl.pem)
    expect(input.server.names).toContain('mqtt.example.com')
    expect(await openssl(['verify', '-CAfile', join(dir, 'export-ca.crt'), join(dir, 'export-server.crt')])).toMatch(/: OK/)
    expect(await openssl(['crl', '-in', join(dir, 'export-crl.pem'), '-CAfile', join(dir, 'export-ca.crt'), '-noout', '-text'])).toMatch(
      new RegExp(`Serial Number: ${revokedSerial}`),
    )
  })

  it.each(BROKER_TARGETS)('gives %s the common files first, and never the device key', (target) => {
    const files = exportForBroker(target, input)
    expect(files.slice(0, 4)).toEqual(commonFiles(input))
    const secretPaths = files.filter((file) => file.secret).map((file) => file.path)
    expect(secretPaths).toContain('certs/server.key')
    for (const file of files) expect(file.contents.toString(), file.path).not.toContain(input.tokenDevices[0].deviceKey)
    expect(new Set(files.map((file) => file.path)).size).toBe(files.length)
    expect(files.map((file) => file.path)).toContain('README.md')
  })
})
