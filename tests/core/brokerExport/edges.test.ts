// What a review found in the exports: values a broker reads otherwise than Certdesk, usernames two
// token devices share, and the order of the input.
import { describe, expect, it } from 'vitest'
import { exportForBroker } from '../../../src-main/core/brokerExport'
import { BROKER_TARGETS, type BrokerExportInput } from '../../../src-main/core/brokerExport/types'
import { makeFleet } from '../../helpers/fleet'

const fleet = await makeFleet()
const real = await fleet.workspace.brokerExportInput(['localhost'])

/** A real CA, server and CRL, with devices and rules chosen here; fixed salts. */
function inputWith(overrides: Partial<BrokerExportInput>): BrokerExportInput {
  let counter = 0
  return { ...real, randomBytes: (size) => Buffer.alloc(size, ++counter % 256), ...overrides }
}

const token = (deviceId: string, username: string) => ({ deviceId, username, deviceKey: `key-of-${deviceId}-0123456789abcdef` })
const text = (input: BrokerExportInput, target: (typeof BROKER_TARGETS)[number], path: string) =>
  exportForBroker(target, input)
    .find((file) => file.path === path)
    ?.contents.toString() ?? ''

describe('RabbitMQ reads "." and "*" in a topic level as a separator and a wildcard', () => {
  it('gives a device whose username holds them none of the topics a ${username} rule would open to others', () => {
    const input = inputWith({
      tokenDevices: [token('star-device-01', '*'), token('dotted-device-01', 'a.b'), token('plain-device-01', 'plain')],
      certificateDevices: [],
      topicRules: [
        { action: 'all', topic: 'devices/${username}/#', permission: 'allow' },
        { action: 'all', topic: '/hello', permission: 'allow' },
      ],
    })
    const definitions = JSON.parse(text(input, 'rabbitmq', 'definitions.json')) as {
      topic_permissions: { user: string; read: string; write: string }[]
    }
    const permission = (user: string) => definitions.topic_permissions.find((entry) => entry.user === user)!
    for (const user of ['*', 'a.b']) {
      for (const access of ['read', 'write'] as const) {
        const pattern = new RegExp(permission(user)[access])
        // Another device's subtree, as RabbitMQ routing keys; the shared test topic stays allowed.
        expect(pattern.test('devices.other.cmd'), `${user} ${access}`).toBe(false)
        expect(pattern.test('devices.a.b.cmd'), `${user} ${access}`).toBe(false)
        expect(pattern.test('.hello'), `${user} ${access}`).toBe(true)
      }
    }
    expect(new RegExp(permission('plain').read).test('devices.plain.x')).toBe(true)
    expect(text(input, 'rabbitmq', 'README.md')).toMatch(/A level holding `\.` or `\*`/)
  })
})

describe('token devices that share a username', () => {
  const input = inputWith({
    tokenDevices: [token('shared-device-01', 'same'), token('shared-device-02', 'same'), token('own-device-01', 'own')],
    certificateDevices: [],
  })

  it('are left out of every target and named in its README', () => {
    const rabbit = JSON.parse(text(input, 'rabbitmq', 'definitions.json')) as { users: { name: string }[] }
    expect(rabbit.users.map((user) => user.name)).toEqual(['own'])
    const emqx = JSON.parse(text(input, 'emqx', 'users.json')) as { user_id: string }[]
    expect(emqx.map((user) => user.user_id)).toEqual(['own'])
    expect(text(input, 'mosquitto', 'passwords')).not.toMatch(/^same:/m)
    for (const target of BROKER_TARGETS) {
      const readme = text(input, target, 'README.md')
      expect(readme, target).toContain('shared-device-01')
      expect(readme, target).toContain('shared-device-02')
    }
  })
})

describe('the order of the input', () => {
  it.each(BROKER_TARGETS)('does not change the %s files', (target) => {
    const input = inputWith({
      tokenDevices: [token('order-b', 'user-b'), token('order-a', 'user-a'), token('order-c', 'user-c')],
    })
    const reversed = inputWith({
      tokenDevices: [...input.tokenDevices].reverse(),
      certificateDevices: [...input.certificateDevices]
        .reverse()
        .map((device) => ({ ...device, certificates: [...device.certificates].reverse() })),
    })
    const files = (given: BrokerExportInput) => exportForBroker(target, given).map((file) => [file.path, file.contents.toString()])
    expect(files(reversed)).toEqual(files(input))
  })
})
