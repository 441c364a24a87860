import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkDataFolder } from '../../../src-main/core/store/doctor'
import { connect, helloRoundTrip, makeFleet, runBroker } from '../../helpers/fleet'
import { editStoredRecord } from '../../helpers/storedRegistry'

describe('a damaged registry', () => {
  it('a device key that cannot be decrypted refuses that device and leaves the broker serving the others', async () => {
    const fleet = await makeFleet()
    const broker = await runBroker(fleet.workspace)
    editStoredRecord(fleet.workspace.dataDir, 'devices', fleet.tokenDevice.id, (device) => {
      ;(device.deviceKey as { tag: string }).tag = Buffer.alloc(16).toString('base64')
    })

    await expect(
      connect(broker.oneWay.port, {
        clientId: fleet.tokenDevice.deviceId,
        username: fleet.tokenDevice.username,
        password: 'anything',
        ca: fleet.rootPem,
      }),
    ).rejects.toThrow(/Not authorized/i)
    await broker.log.flushed()
    expect(broker.log.recent().at(-1)).toMatchObject({
      result: 'refused',
      reason: `the device key of ${fleet.tokenDevice.deviceId} cannot be read (the registry is damaged; run certdesk doctor)`,
    })
    // Still serving: the certificate device connects and round-trips.
    const bundle = join(fleet.bundleDir, 'common_certs')
    const client = await connect(broker.mutual.port, {
      clientId: fleet.certDevice.deviceId,
      username: fleet.certDevice.username,
      ca: fleet.rootPem,
      cert: await readFile(join(bundle, 'common.crt')),
      key: await readFile(join(bundle, 'common.key')),
    })
    expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
    await client.endAsync()
    // And doctor names the device.
    const report = await checkDataFolder(fleet.workspace.dataDir)
    expect(report.findings.find((finding) => finding.check === 'device keys')).toMatchObject({ status: 'problem' })
    expect(report.findings.find((finding) => finding.check === 'device keys')?.message).toContain(fleet.tokenDevice.deviceId)
  })
})
