import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../src-main/core/broker/broker'
import { deviceExamples } from '../../src-renderer/src/examples'
import { type Fleet, makeFleet, runBroker } from '../helpers/fleet'

const run = promisify(execFile)
let fleet: Fleet
let broker: RunningBroker

beforeAll(async () => {
  fleet = await makeFleet()
  broker = await runBroker(fleet.workspace)
})

describe('example code on the device page', () => {
  it('the mosquitto_pub examples run as shown, from the folder where the bundle was unpacked', async () => {
    const endpoint = { host: 'localhost', oneWayPort: broker.oneWay.port, mutualPort: broker.mutual.port }
    for (const device of [fleet.tokenDevice, fleet.certDevice]) {
      const example = deviceExamples(device, endpoint).find((e) => e.id.startsWith('mosquitto-'))
      expect(example, device.deviceId).toBeDefined()
      await run('bash', ['-e', '-c', example!.code], { cwd: fleet.bundleDir })
      await broker.log.flushed()
      expect(broker.log.recent().at(-1)).toMatchObject({ clientId: device.deviceId, result: 'accepted' })
    }
  })

  it('each example carries the device credentials for its port, and only those', () => {
    const endpoint = { host: 'broker.local', oneWayPort: 8883, mutualPort: 8884 }
    const token = deviceExamples(fleet.tokenDevice, endpoint)
    expect(token.map((e) => e.id)).toEqual(['python-8883', 'mqttjs-8883', 'mosquitto-8883'])
    for (const example of token) {
      expect(example.code).toContain(fleet.tokenDevice.deviceKey)
      expect(example.code).toContain('8883')
    }
    const cert = deviceExamples(fleet.certDevice, endpoint)
    expect(cert.map((e) => e.id)).toEqual(['python-8884', 'mqttjs-8884', 'mosquitto-8884'])
    for (const example of cert) {
      expect(example.code).toContain('common_certs/common.key')
      expect(example.code).not.toContain(fleet.certDevice.deviceKey)
    }
  })
})
