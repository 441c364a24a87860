import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { type Socket, connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import mqttPacket from 'mqtt-packet'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { type Fleet, connect, helloRoundTrip, makeFleet, runBroker } from '../../helpers/fleet'

let fleet: Fleet
let broker: RunningBroker
let clientCert: { cert: Buffer; key: Buffer; ca: Buffer }

beforeAll(async () => {
  fleet = await makeFleet()
  // Short timeouts so the idle-client cases finish quickly; the defaults are 10 s each.
  broker = await runBroker(fleet.workspace, { handshakeTimeoutMs: 1000, connectTimeoutMs: 1000 })
  const dir = join(fleet.bundleDir, 'common_certs')
  clientCert = {
    ca: await readFile(join(dir, 'root_ca.crt')),
    cert: await readFile(join(dir, 'common.crt')),
    key: await readFile(join(dir, 'common.key')),
  }
})

/** Resolves when the server closes the socket; rejects if it is still open after `ms`. */
function serverCloses(socket: Socket, ms: number, what = 'socket'): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} still open after ${ms} ms`)), ms)
    socket.on('error', () => undefined)
    // Read whatever the server answers (a TLS alert, say): a paused socket never sees the end.
    socket.resume()
    socket.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => resolve(socket))
    socket.on('error', reject)
  })
}

function tlsSocket(port: number, withCertificate: boolean): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { port, host: '127.0.0.1', servername: 'localhost', ca: clientCert.ca, ...(withCertificate ? clientCert : {}) },
      () => resolve(socket),
    )
    socket.on('error', reject)
  })
}

const connectPacket = (clientId: string) =>
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId,
    keepalive: 30,
    username: 'someone',
    password: Buffer.from('something'),
  })

async function stillServes(): Promise<void> {
  const client = await connect(broker.mutual.port, {
    clientId: fleet.certDevice.deviceId,
    username: fleet.certDevice.username,
    ...clientCert,
  })
  expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
  await client.endAsync()
  const oneWay = await connect(broker.oneWay.port, {
    clientId: fleet.tokenDevice.deviceId,
    username: fleet.tokenDevice.username,
    password: fleet.tokenDevice.deviceKey,
    ca: clientCert.ca,
  })
  await oneWay.endAsync()
}

describe('the broker survives malformed input on both ports', () => {
  for (const kind of ['oneWay', 'mutual'] as const) {
    it(`${kind}: random bytes instead of TLS, garbage and truncated MQTT inside TLS`, async () => {
      const port = broker[kind].port
      const attacks: Promise<unknown>[] = []
      for (let i = 0; i < 25; i++) {
        attacks.push(
          rawSocket(port).then((socket) => {
            const bytes = randomBytes(1 + ((i * 97) % 4096))
            const closed = serverCloses(socket, 5000, `raw socket sent ${bytes.subarray(0, 8).toString('hex')}…(${bytes.length})`)
            socket.write(bytes)
            return closed
          }),
        )
      }
      for (let i = 0; i < 10; i++) {
        attacks.push(
          tlsSocket(port, kind === 'mutual').then((socket) => {
            const bytes = randomBytes(1 + ((i * 131) % 2048))
            const closed = serverCloses(socket, 5000, `TLS socket sent ${bytes.subarray(0, 8).toString('hex')}…(${bytes.length})`)
            socket.write(bytes)
            return closed
          }),
        )
      }
      const packet = connectPacket('truncated-client')
      for (let cut = 1; cut < packet.length; cut += Math.max(1, Math.floor(packet.length / 8))) {
        attacks.push(
          tlsSocket(port, kind === 'mutual').then((socket) => {
            const closed = serverCloses(socket, 5000, `CONNECT cut at ${cut}`)
            socket.write(packet.subarray(0, cut))
            // Half the truncated clients hang up, the others go quiet: both must end.
            if (cut % 2 === 0) socket.end()
            return closed
          }),
        )
      }
      // A packet that claims a huge remaining length and never delivers it.
      attacks.push(
        tlsSocket(port, kind === 'mutual').then((socket) => {
          const closed = serverCloses(socket, 5000)
          socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
          return closed
        }),
      )
      await Promise.all([...attacks, stillServes()])
      await stillServes()
    })

    it(`${kind}: clients that open a connection and never speak are dropped`, async () => {
      const port = broker[kind].port
      const silentTcp = await rawSocket(port)
      const silentTls = await tlsSocket(port, kind === 'mutual')
      await Promise.all([serverCloses(silentTcp, 4000), serverCloses(silentTls, 4000), stillServes()])
    })
  }
})
