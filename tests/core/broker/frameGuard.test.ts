import { PassThrough } from 'node:stream'
import mqttPacket from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { MqttFrameGuard } from '../../../src-main/core/broker/frameGuard'

/** Feeds `bytes` to a guard as if they arrived from a client, `chunkSize` bytes at a time. */
async function feed(bytes: Buffer, chunkSize: number, limits = { beforeConnect: 65_536, afterConnect: 262_144 }) {
  const socket = new PassThrough()
  const refusals: string[] = []
  const guard = new MqttFrameGuard(socket, limits, (reason) => refusals.push(reason))
  const passed: Buffer[] = []
  guard.on('data', (chunk: Buffer) => passed.push(chunk))
  guard.on('error', () => undefined)
  for (let offset = 0; offset < bytes.length && !socket.destroyed; offset += chunkSize) {
    socket.write(bytes.subarray(offset, offset + chunkSize))
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { passed: Buffer.concat(passed), refusals, closed: socket.destroyed }
}

const connectPacket = mqttPacket.generate({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'device-0001',
  keepalive: 30,
})
const packets = Buffer.concat([
  connectPacket,
  mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'devices/device-0001/#', qos: 1 }] }),
  mqttPacket.generate({ cmd: 'pingreq' }),
  mqttPacket.generate({ cmd: 'publish', topic: 'devices/device-0001/a', payload: Buffer.alloc(200), qos: 0, retain: false, dup: false }),
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'devices/device-0001/b',
    payload: Buffer.alloc(20_000),
    qos: 1,
    messageId: 2,
    retain: false,
    dup: false,
  }),
  mqttPacket.generate({ cmd: 'disconnect' }),
])

describe('MQTT frame guard', () => {
  it.each([1, 2, 3, 7, 64, 4096, packets.length])('passes a stream of packets unchanged, %i bytes at a time', async (chunkSize) => {
    const result = await feed(packets, chunkSize)
    expect(result.refusals).toEqual([])
    expect(result.passed.equals(packets)).toBe(true)
  })

  it('closes at the fixed header of a packet over the limit, before passing its bytes on', async () => {
    const big = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(2000), qos: 0, retain: false, dup: false })
    const limits = { beforeConnect: 1024, afterConnect: big.length - 1 }
    const after = await feed(Buffer.concat([connectPacket, big]), 3, limits)
    expect(after.refusals).toEqual([`packet of ${big.length} bytes exceeds the ${big.length - 1}-byte limit`])
    expect(after.closed).toBe(true)
    // At most the first bytes of its fixed header got through, never its body.
    expect(after.passed.length).toBeLessThan(connectPacket.length + 5)
    // The whole packet is its size, fixed header included.
    expect((await feed(Buffer.concat([connectPacket, big]), 100, { beforeConnect: 1024, afterConnect: big.length })).refusals).toEqual([])
  })

  it('holds only the CONNECT to the small limit: packets sent right behind it get the configured one (MQTT 3.1.4)', async () => {
    const hundredKilobytes = mqttPacket.generate({
      cmd: 'publish',
      topic: 'devices/device-0001/a',
      payload: Buffer.alloc(100_000),
      qos: 0,
      retain: false,
      dup: false,
    })
    const together = Buffer.concat([connectPacket, hundredKilobytes])
    const result = await feed(together, together.length)
    expect(result.refusals).toEqual([])
    expect(result.passed.equals(together)).toBe(true)
    const bigConnect = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'device-0001',
      keepalive: 30,
      username: 'u',
      password: Buffer.alloc(2000),
    })
    expect((await feed(bigConnect, 64, { beforeConnect: 1024, afterConnect: 262_144 })).refusals).toEqual([
      `packet of ${bigConnect.length} bytes exceeds the 1024-byte limit for a CONNECT`,
    ])
  })

  it('refuses the largest declared length at once, and a remaining length longer than 4 bytes', async () => {
    expect((await feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), 1)).refusals).toEqual([
      'packet of 268435460 bytes exceeds the 65536-byte limit for a CONNECT',
    ])
    expect(
      (
        await feed(Buffer.concat([connectPacket, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]), 1, {
          beforeConnect: 1e9,
          afterConnect: 1e9,
        })
      ).refusals,
    ).toEqual(['malformed packet: its remaining length runs past 4 bytes'])
  })

  it('forwards writes to the socket and ends both sides together', async () => {
    const socket = new PassThrough()
    const guard = new MqttFrameGuard(socket, { beforeConnect: 1024, afterConnect: 1024 }, () => undefined)
    const written: Buffer[] = []
    socket.on('data', (chunk: Buffer) => written.push(chunk))
    guard.on('data', () => undefined)
    guard.write(Buffer.from([0xd0, 0x00]))
    await new Promise((resolve) => setImmediate(resolve))
    expect(Buffer.concat(written)).toEqual(Buffer.from([0xd0, 0x00]))
    const closed = new Promise((resolve) => guard.on('close', resolve))
    socket.destroy()
    await closed
    expect(guard.destroyed).toBe(true)
    const other = new PassThrough()
    const second = new MqttFrameGuard(other, { beforeConnect: 1024, afterConnect: 1024 }, () => undefined)
    second.destroy()
    expect(other.destroyed).toBe(true)
  })
})
