import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Aedes } from 'aedes'
import type { MqttClient } from 'mqtt'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { issueCertificate } from '../../../src-main/core/pki/certificates'
import { exportPrivateKeyPem, generateKeyPair } from '../../../src-main/core/pki/keys'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { Workspace } from '../../../src-main/core/workspace'
import { type Fleet, closedWithin, connect, helloRoundTrip, makeFleet, runBroker, unpackBundle, issuerOf } from '../../helpers/fleet'
import { runCertdesk, temporaryFolder } from '../../helpers/tools'
import { storedRecords } from '../../helpers/storedRegistry'

let fleet: Fleet
let broker: RunningBroker
let bundle: { ca: Buffer; cert: Buffer; key: Buffer }
/** The aedes inside `broker`, caught as it is made: the tests read what its persistence keeps. */
let aedes: Aedes

/** What the tests read of aedes's persistence: a session's stored filters and its offline queue. */
interface SessionStore {
  subscriptionsByClient(client: { id: string }): Promise<{ topic: string; qos: number }[]>
  outgoingStream(client: { id: string }): AsyncIterable<{ topic: string; payload: Buffer | string }>
}
const sessionStore = () => (aedes as unknown as { persistence: SessionStore }).persistence

const lastLogEntry = () => broker.log.recent().at(-1)

async function refusal(port: number, options: Parameters<typeof connect>[1]): Promise<{ code?: number; reason?: string }> {
  try {
    const client = await connect(port, options)
    await client.endAsync()
  } catch (error) {
    await broker.log.flushed()
    return { code: (error as { code?: number }).code, reason: lastLogEntry()?.reason }
  }
  throw new Error('the broker accepted a client it should have refused')
}

beforeAll(async () => {
  fleet = await makeFleet()
  // RunningBroker keeps its aedes to itself; catch the one startBroker creates.
  const createBroker = vi.spyOn(Aedes, 'createBroker')
  broker = await runBroker(fleet.workspace)
  expect(createBroker).toHaveBeenCalledTimes(1)
  aedes = await createBroker.mock.results[0].value
  createBroker.mockRestore()
  const dir = join(fleet.bundleDir, 'common_certs')
  bundle = {
    ca: await readFile(join(dir, 'root_ca.crt')),
    cert: await readFile(join(dir, 'common.crt')),
    key: await readFile(join(dir, 'common.key')),
  }
})

const oneWayOptions = () => ({
  clientId: fleet.tokenDevice.deviceId,
  username: fleet.tokenDevice.username,
  password: fleet.tokenDevice.deviceKey,
  ca: bundle.ca,
})
const mutualOptions = () => ({ clientId: fleet.certDevice.deviceId, username: fleet.certDevice.username, ...bundle })

describe('one-way TLS listener', () => {
  it('accepts a token device with its username and device key, and relays /hello', async () => {
    const client = await connect(broker.oneWay.port, oneWayOptions())
    expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
    await client.endAsync()
    expect(lastLogEntry()).toMatchObject({ listener: 'one-way', clientId: 'token-device-01', result: 'accepted' })
  })

  it('refuses each wrong credential with its reason', async () => {
    const port = broker.oneWay.port
    expect(await refusal(port, { ...oneWayOptions(), password: 'x'.repeat(36) })).toEqual({ code: 4, reason: 'wrong device key' })
    expect(await refusal(port, { ...oneWayOptions(), password: undefined })).toMatchObject({
      code: 4,
      reason: expect.stringMatching(/no device key/),
    })
    expect(await refusal(port, { ...oneWayOptions(), username: 'someone-else' })).toEqual({
      code: 4,
      reason: 'wrong username for device token-device-01',
    })
    expect(await refusal(port, { ...oneWayOptions(), clientId: 'nobody-at-all' })).toEqual({
      code: 2,
      reason: 'unknown device "nobody-at-all"',
    })
    expect(await refusal(port, { ...mutualOptions(), password: 'x' })).toEqual({
      code: 5,
      reason: 'device cert-device-01 uses certificate authentication; connect on the mutual-TLS port',
    })
  })
})

describe('protocol versions', () => {
  it('serves MQTT 3.1.1 and 3.1, and refuses 5.0 with a logged reason', async () => {
    const v31 = await connect(broker.oneWay.port, { ...oneWayOptions(), protocolVersion: 3, protocolId: 'MQIsdp' })
    await v31.endAsync()
    expect(await refusal(broker.oneWay.port, { ...oneWayOptions(), protocolVersion: 5 })).toEqual({
      code: 1,
      reason: 'MQTT protocol version 5.0 is not served; connect with MQTT 3.1.1',
    })
  })
})

describe('mutual TLS listener', () => {
  it('accepts the bound certificate of a cert device, and relays /hello', async () => {
    const client = await connect(broker.mutual.port, mutualOptions())
    expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
    await client.endAsync()
    expect(lastLogEntry()).toMatchObject({
      listener: 'mutual',
      result: 'accepted',
      fingerprint256: fleet.certificate.fingerprint256,
    })
  })

  it('refuses each broken rule with its reason', async () => {
    const port = broker.mutual.port
    const { workspace } = fleet
    expect(await refusal(port, { ...mutualOptions(), cert: undefined, key: undefined })).toEqual({
      code: 5,
      reason: 'no client certificate presented',
    })
    expect(await refusal(port, { ...mutualOptions(), username: 'other' })).toEqual({
      code: 4,
      reason: 'wrong username for device cert-device-01',
    })
    expect(await refusal(port, { ...mutualOptions(), clientId: 'unknown-device' })).toEqual({
      code: 2,
      reason: 'unknown device "unknown-device"',
    })

    // The same certificate presented for another cert device it is not bound to.
    const other = await workspace.createDevice({ name: 'Other', authType: 'cert', deviceId: 'cert-device-02' })
    expect(await refusal(port, { ...mutualOptions(), clientId: other.deviceId, username: other.username })).toEqual({
      code: 5,
      reason: 'certificate is not bound to device cert-device-02',
    })
    // A token device on the mutual port.
    expect(await refusal(port, { ...mutualOptions(), clientId: fleet.tokenDevice.deviceId, username: fleet.tokenDevice.username })).toEqual(
      {
        code: 5,
        reason: 'device token-device-01 uses token authentication; connect on the one-way port',
      },
    )

    // A disabled certificate.
    const spare = await workspace.issueDeviceCertificate({ name: 'Spare', enabled: false })
    await workspace.bindDevices(spare.id, [other.deviceId])
    const spareDir = await unpackBundle(workspace, spare.id, join(fleet.folder, 'spare'))
    const spareFiles = {
      ca: bundle.ca,
      cert: await readFile(join(spareDir, 'common_certs/common.crt')),
      key: await readFile(join(spareDir, 'common_certs/common.key')),
    }
    expect(await refusal(port, { clientId: other.deviceId, username: other.username, ...spareFiles })).toEqual({
      code: 5,
      reason: 'certificate is disabled',
    })
    // A deleted certificate chains to the root but is no longer Certdesk's.
    await workspace.unbindDevices(spare.id, [other.deviceId])
    await workspace.deleteCertificate(spare.id)
    expect(await refusal(port, { clientId: other.deviceId, username: other.username, ...spareFiles })).toMatchObject({
      code: 5,
      reason: expect.stringMatching(/not one Certdesk issued/),
    })
  })

  it('refuses a certificate from another CA, and an expired one from this CA', async () => {
    const port = broker.mutual.port
    const stranger = await Workspace.initialise(join(await temporaryFolder(), 'other'), { keyType: 'ec-p256' })
    const strangerCertificate = await stranger.issueDeviceCertificate({ name: 'Stranger' })
    const strangerDir = await unpackBundle(stranger, strangerCertificate.id, join(fleet.folder, 'stranger'))
    expect(
      await refusal(port, {
        ...mutualOptions(),
        cert: await readFile(join(strangerDir, 'common_certs/common.crt')),
        key: await readFile(join(strangerDir, 'common_certs/common.key')),
      }),
    ).toEqual({ code: 5, reason: 'client certificate does not chain to the root CA' })

    // Signed by the real root, but its validity ended yesterday.
    const issuer = await issuerOf(fleet.workspace)
    const keys = await generateKeyPair('ec-p256')
    const expired = issueCertificate({
      commonName: 'expired',
      publicKey: keys.publicKey,
      subjectKeyType: 'ec-p256',
      issuer,
      days: 1,
      profile: { kind: 'device' },
      now: new Date(Date.now() - 3 * 86_400_000),
    })
    expect(
      await refusal(port, { ...mutualOptions(), cert: Buffer.from(expired.pem), key: Buffer.from(exportPrivateKeyPem(keys.privateKey)) }),
    ).toEqual({
      code: 5,
      reason: 'client certificate has expired',
    })
  })
})

describe('live registry', () => {
  it('drops sessions that a change in this process makes invalid, without a restart', async () => {
    const { workspace } = fleet
    // Disabling the certificate.
    let client = await connect(broker.mutual.port, mutualOptions())
    let closed = closedWithin(client, 5000)
    await workspace.updateCertificate(fleet.certificate.id, { enabled: false })
    await closed
    expect(lastLogEntry()).toMatchObject({ result: 'disconnected', reason: 'certificate is disabled', clientId: 'cert-device-01' })
    await workspace.updateCertificate(fleet.certificate.id, { enabled: true })

    // Unbinding it.
    client = await connect(broker.mutual.port, mutualOptions())
    closed = closedWithin(client, 5000)
    await workspace.unbindDevices(fleet.certificate.id, [fleet.certDevice.deviceId])
    await closed
    expect(lastLogEntry()).toMatchObject({ result: 'disconnected', reason: 'certificate is not bound to device cert-device-01' })
    await workspace.bindDevices(fleet.certificate.id, [fleet.certDevice.deviceId])

    // Regenerating the device key.
    client = await connect(broker.oneWay.port, oneWayOptions())
    closed = closedWithin(client, 5000)
    const regenerated = await workspace.regenerateDeviceKey(fleet.tokenDevice.deviceId)
    await closed
    expect(lastLogEntry()).toMatchObject({ result: 'disconnected', reason: 'wrong device key' })
    fleet.tokenDevice = regenerated

    // Switching the device's authentication type.
    client = await connect(broker.oneWay.port, oneWayOptions())
    closed = closedWithin(client, 5000)
    await workspace.updateDevice(fleet.tokenDevice.deviceId, { authType: 'cert' })
    await closed
    expect(lastLogEntry()?.reason).toMatch(/uses certificate authentication/)
    await workspace.updateDevice(fleet.tokenDevice.deviceId, { authType: 'token' })

    // An unrelated change leaves a valid session alone.
    client = await connect(broker.mutual.port, mutualOptions())
    await workspace.createDevice({ name: 'Bystander', authType: 'token' })
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(client.connected).toBe(true)
    // Binding and unbinding another device leaves this session alone; deleting its device does not.
    const doomed = await workspace.createDevice({ name: 'Doomed', authType: 'cert', deviceId: 'doomed-device-1' })
    await workspace.bindDevices(fleet.certificate.id, [doomed.deviceId])
    const doomedClient = await connect(broker.mutual.port, { ...mutualOptions(), clientId: doomed.deviceId, username: doomed.username })
    await workspace.unbindDevices(fleet.certificate.id, [doomed.deviceId])
    await closedWithin(doomedClient, 1000)
    const again = await workspace.bindDevices(fleet.certificate.id, [doomed.deviceId])
    expect(again.boundDeviceIds).toContain(doomed.deviceId)
    const doomedAgain = await connect(broker.mutual.port, { ...mutualOptions(), clientId: doomed.deviceId, username: doomed.username })
    closed = closedWithin(doomedAgain, 1000)
    await workspace.deleteDevice(doomed.deviceId)
    await closed
    expect(lastLogEntry()).toMatchObject({ result: 'disconnected', clientId: doomed.deviceId, reason: 'unknown device "doomed-device-1"' })
    expect(client.connected).toBe(true)
    await client.endAsync()
  })

  it('drops sessions when the CLI, in another process, changes the registry', async () => {
    const data = ['--data', fleet.workspace.dataDir]
    /** Connects, runs one CLI command, and waits for the broker to drop the session. */
    const dropAfterCli = async (options: Parameters<typeof connect>[1], port: number, args: string[], reason: string | RegExp) => {
      const client = await connect(port, options)
      let disconnectedAt = 0
      client.once('close', () => (disconnectedAt = Date.now()))
      const result = await runCertdesk([...data, ...args])
      expect(result.code, result.stderr).toBe(0)
      // The CLI's write lands before it exits; the broker notices it (how soon: bench/registryNotice).
      await closedWithin(client, 5000).catch(() => undefined)
      expect(disconnectedAt, `${args.join(' ')} did not disconnect the client`).toBeGreaterThan(0)
      expect(lastLogEntry()).toMatchObject({ result: 'disconnected', reason })
    }
    const certificate = fleet.certificate.id
    await dropAfterCli(mutualOptions(), broker.mutual.port, ['cert', 'update', certificate, '--disable'], 'certificate is disabled')
    await runCertdesk([...data, 'cert', 'update', certificate, '--enable'])
    await dropAfterCli(
      mutualOptions(),
      broker.mutual.port,
      ['cert', 'unbind', certificate, fleet.certDevice.deviceId],
      /not bound to device/,
    )
    await runCertdesk([...data, 'cert', 'bind', certificate, fleet.certDevice.deviceId])
    await dropAfterCli(oneWayOptions(), broker.oneWay.port, ['device', 'regenerate-key', fleet.tokenDevice.deviceId], 'wrong device key')
    fleet.tokenDevice = {
      ...fleet.workspace.getDevice(fleet.tokenDevice.id),
      deviceKey: await fleet.workspace.revealDeviceKey(fleet.tokenDevice.id),
    }
    await dropAfterCli(
      oneWayOptions(),
      broker.oneWay.port,
      ['device', 'update', fleet.tokenDevice.deviceId, '--auth', 'cert'],
      /uses certificate authentication/,
    )
    await runCertdesk([...data, 'device', 'update', fleet.tokenDevice.deviceId, '--auth', 'token'])
    await dropAfterCli(
      oneWayOptions(),
      broker.oneWay.port,
      ['device', 'delete', fleet.tokenDevice.deviceId],
      'unknown device "token-device-01"',
    )
    // Later tests need the token device back.
    fleet.tokenDevice = await fleet.workspace.createDevice({ name: 'Token device', authType: 'token', deviceId: 'token-device-01' })
  })
})

describe('listeners and server certificate', () => {
  it('a port in use is named, and the other listener still starts', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    const second = await runBroker(fleet.workspace, { oneWayPort: port })
    expect(second.oneWay).toMatchObject({
      listening: false,
      error: `port ${port} on 127.0.0.1 is already in use, so the one-way TLS listener is not running`,
    })
    expect(second.mutual.listening).toBe(true)
    const client = await connect(second.mutual.port, mutualOptions())
    await client.endAsync()
    blocker.close()
  })

  it('serves a certificate for localhost, both loopbacks, the host name and added names; re-issues on change', async () => {
    const { hostname } = await import('node:os')
    expect(broker.serverCertificate.names).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1', hostname().toLowerCase()]))
    // mqtt.js checks the name: connecting by IP address works as well as by localhost.
    const byAddress = await (
      await import('mqtt')
    ).default.connectAsync(`mqtts://127.0.0.1:${broker.oneWay.port}`, {
      ...oneWayOptions(),
      reconnectPeriod: 0,
    })
    await byAddress.endAsync()

    const same = await fleet.workspace.ensureBrokerServerCertificate([])
    expect(same.record.fingerprint256).toBe(broker.serverCertificate.fingerprint256)
    const extended = await fleet.workspace.ensureBrokerServerCertificate(['mqtt.example.test'])
    expect(extended.record.fingerprint256).not.toBe(broker.serverCertificate.fingerprint256)
    expect(extended.record.names).toContain('mqtt.example.test')
    await expect(fleet.workspace.ensureBrokerServerCertificate(['not a name'])).rejects.toThrow(/neither a host name nor an IP/)
  })

  it('re-issues the server certificate within 30 days of its expiry', async () => {
    const current = await fleet.workspace.ensureBrokerServerCertificate([])
    // Age the stored record as if it had been issued 370 days ago.
    const index = join(fleet.workspace.dataDir, 'config.json')
    const data = JSON.parse(await readFile(index, 'utf8'))
    data.broker.serverCertificate.notAfter = new Date(Date.now() + 20 * 86_400_000).toISOString()
    await writeFile(index, JSON.stringify(data))
    const renewed = await fleet.workspace.ensureBrokerServerCertificate([])
    expect(renewed.record.fingerprint256).not.toBe(current.record.fingerprint256)
    expect(Date.parse(renewed.record.notAfter) - Date.now()).toBeGreaterThan(390 * 86_400_000)
    // The replaced pair's record is gone (in the same commit); the new one is the only broker record left.
    const records = Object.keys(storedRecords(fleet.workspace.dataDir)).filter((id) => id.startsWith('broker-server-'))
    expect(records).toEqual([renewed.record.recordId])
  })
})

describe('topic rules', () => {
  type Received = { topic: string; payload: string; retain: boolean }
  const inbox = (client: MqttClient) => {
    const messages: Received[] = []
    client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }))
    return messages
  }
  /** SUBACK's granted QoS per filter; mqtt.js rejects a SUBACK holding a 128 but carries it. */
  const grantedQos = async (client: MqttClient, filters: string[]): Promise<number[]> => {
    try {
      return (await client.subscribeAsync(filters, { qos: 1 })).map((grant) => grant.qos)
    } catch (error) {
      const granted = (error as { packet?: { granted?: number[] } }).packet?.granted
      if (!granted) throw error
      return granted
    }
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300))
  const denials = (since: number) =>
    broker.log
      .recent()
      .filter((entry) => entry.result === 'denied' && Date.parse(entry.time) >= since)
      .map((entry) => `${entry.clientId}: ${entry.reason}`)

  it('by default confine each device to devices/<its id>/# and the shared /hello, and log each denial', async () => {
    const since = Date.now() - 1
    const a = await connect(broker.oneWay.port, oneWayOptions())
    const b = await connect(broker.mutual.port, mutualOptions())
    const [idA, idB] = [fleet.tokenDevice.deviceId, fleet.certDevice.deviceId]
    const toA = inbox(a)
    const toB = inbox(b)

    expect(await grantedQos(a, ['#', `devices/${idB}/#`, 'devices/+/status', '$SYS/#', `devices/${idA}/#`, '/hello'])).toEqual([
      128, 128, 128, 128, 1, 1,
    ])
    expect(await grantedQos(b, [`devices/${idB}/#`, '/hello'])).toEqual([1, 1])

    // Forbidden publishes are acknowledged (the session stays) but go nowhere, retained or not.
    await a.publishAsync(`devices/${idB}/x`, 'from A', { qos: 1 })
    await a.publishAsync(`devices/${idB}/planted`, 'planted by A', { qos: 1, retain: true })
    await a.publishAsync('elsewhere/planted', 'planted by A', { qos: 0, retain: true })
    await a.publishAsync('$SYS/fake/new/clients', idB, { qos: 0 })
    // Allowed ones travel.
    await a.publishAsync(`devices/${idA}/x`, 'A to itself', { qos: 1 })
    await b.publishAsync(`devices/${idB}/status`, 'B to itself', { qos: 1 })
    await b.publishAsync('/hello', 'B to everyone', { qos: 1 })
    await settle()

    expect(toA).toEqual([
      { topic: `devices/${idA}/x`, payload: 'A to itself', retain: false },
      { topic: '/hello', payload: 'B to everyone', retain: false },
    ])
    expect(toB).toEqual([
      { topic: `devices/${idB}/status`, payload: 'B to itself', retain: false },
      { topic: '/hello', payload: 'B to everyone', retain: false },
    ])
    // Nothing was planted: a fresh subscription of B's own subtree brings no retained message.
    const retainedForB = inbox(b)
    await b.subscribeAsync(`devices/${idB}/planted`, { qos: 1 })
    await settle()
    expect(retainedForB).toEqual([])
    expect(a.connected && b.connected).toBe(true)

    await broker.log.flushed()
    expect(denials(since)).toEqual([
      `${idA}: subscribe to "#" denied by topic rules`,
      `${idA}: subscribe to "devices/${idB}/#" denied by topic rules`,
      `${idA}: subscribe to "devices/+/status" denied by topic rules`,
      `${idA}: subscribe to "$SYS/#" denied by topic rules`,
      `${idA}: publish to "devices/${idB}/x" denied by topic rules`,
      `${idA}: publish to "devices/${idB}/planted" denied by topic rules`,
      `${idA}: publish to "elsewhere/planted" denied by topic rules`,
      `${idA}: publish to "$SYS/fake/new/clients" denied: $SYS topics are the broker's own`,
    ])
    await a.endAsync()
    await b.endAsync()
  })

  it('a persistent session stores and queues for its allowed filters only, never a refused one', async () => {
    const [idA, idB] = [fleet.tokenDevice.deviceId, fleet.certDevice.deviceId]
    const persistent = { ...oneWayOptions(), clean: false }
    const store = sessionStore()
    let a = await connect(broker.oneWay.port, persistent)
    // Refused filters first: aedes would store them along with the allowed ones that follow.
    expect(await grantedQos(a, ['#', `devices/${idB}/#`, `devices/${idA}/#`, '/hello'])).toEqual([128, 128, 1, 1])
    // authorizeForward would hide a stored `#` at delivery, so look at what aedes stored itself.
    const stored = await store.subscriptionsByClient({ id: idA })
    expect(stored.map((subscription) => subscription.topic).sort()).toEqual(['/hello', `devices/${idA}/#`])
    await a.endAsync()

    const b = await connect(broker.mutual.port, mutualOptions())
    await b.publishAsync(`devices/${idB}/while-away`, 'not for A', { qos: 1 })
    await b.publishAsync('/hello', 'for everyone', { qos: 1 })
    await b.endAsync()
    // A's offline queue holds only what its allowed filters match: a stored `#` would queue B's message too.
    const queued: string[] = []
    for await (const packet of store.outgoingStream({ id: idA })) queued.push(`${packet.topic} ${packet.payload}`)
    expect(queued).toEqual(['/hello for everyone'])

    a = await connect(broker.oneWay.port, persistent)
    const toA = inbox(a)
    await settle()
    expect(toA.map((m) => `${m.topic} ${m.payload}`)).toEqual(['/hello for everyone'])
    await a.endAsync()
    // Leave no persistent session behind for the other tests.
    await (await connect(broker.oneWay.port, oneWayOptions())).endAsync()
  })

  it('a will message outside the device subtree is not published', async () => {
    const since = Date.now() - 1
    const b = await connect(broker.mutual.port, mutualOptions())
    const toB = inbox(b)
    await b.subscribeAsync(`devices/${fleet.certDevice.deviceId}/#`, { qos: 1 })
    const a = await connect(broker.oneWay.port, {
      ...oneWayOptions(),
      will: { topic: `devices/${fleet.certDevice.deviceId}/will`, payload: Buffer.from('A died'), qos: 1, retain: false },
    })
    // Drop the connection without DISCONNECT, so the broker publishes the will.
    const closed = closedWithin(a, 2000)
    a.stream.destroy()
    await closed
    await settle()
    expect(toB).toEqual([])
    await broker.log.flushed()
    expect(denials(since)).toEqual([
      `${fleet.tokenDevice.deviceId}: will message to "devices/${fleet.certDevice.deviceId}/will" denied by topic rules`,
    ])
    await b.endAsync()
  })

  it('a looping client cannot flood the log: one entry per topic per 10 s, and 10 per client', async () => {
    const since = Date.now() - 1
    // A device of its own: the per-client count is not shared with the other tests.
    const looping = await fleet.workspace.createDevice({ name: 'Looping', authType: 'token', deviceId: 'looping-device' })
    const a = await connect(broker.oneWay.port, {
      clientId: looping.deviceId,
      username: looping.username,
      password: looping.deviceKey,
      ca: bundle.ca,
    })
    for (let i = 0; i < 30; i++) a.publish('loop/same', 'x', { qos: 0 })
    for (let i = 0; i < 30; i++) a.publish(`loop/${i}`, 'x', { qos: 0 })
    await a.publishAsync(`devices/${looping.deviceId}/sync`, 'x', { qos: 1 })
    await broker.log.flushed()
    const logged = denials(since)
    expect(logged).toHaveLength(11)
    expect(logged.filter((line) => line.includes('"loop/same"'))).toHaveLength(1)
    expect(logged.at(-1)).toMatch(/more than 10 topic denials in 10 s; the next ones are not logged/)
    expect(a.connected).toBe(true)
    await a.endAsync()
  })

  it('rules changed through the Workspace apply to a live session without dropping it', async () => {
    const { workspace } = fleet
    const a = await connect(broker.oneWay.port, oneWayOptions())
    const toA = inbox(a)
    expect(await grantedQos(a, ['bench/#'])).toEqual([128])

    const saved = await workspace.updateTopicRules([
      ...workspace.getTopicRules().rules,
      { action: 'all', topic: 'bench/#', permission: 'allow' },
    ])
    expect(saved.rules.at(-1)).toEqual({ action: 'all', topic: 'bench/#', permission: 'allow' })
    await expect.poll(async () => (await grantedQos(a, ['bench/#']))[0], { timeout: 5000, interval: 50 }).toBe(1)
    await a.publishAsync('bench/one', '1', { qos: 1 })
    await expect.poll(() => toA.map((m) => m.topic)).toEqual(['bench/one'])

    // Back to the default.
    const defaults = [
      { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
      { action: 'all', topic: '/hello', permission: 'allow' },
    ] as const
    await workspace.resetTopicRules()
    expect(workspace.getTopicRules().rules).toEqual(defaults)

    // Delivery is checked per message: B may publish to bench/# and A's subtree, yet A must not
    // receive bench/# (subscribed under the earlier rules) nor its own devices/<A>/secret, which
    // A's allowed devices/<A>/# filter only overlaps.
    const [idA, idB] = [fleet.tokenDevice.deviceId, fleet.certDevice.deviceId]
    const since = Date.now() - 1
    await workspace.updateTopicRules([
      { action: 'all', topic: 'devices/${clientid}/secret', permission: 'deny' },
      { action: 'publish', topic: `devices/${idA}/#`, permission: 'allow' },
      { action: 'publish', topic: 'bench/#', permission: 'allow' },
      ...defaults,
    ])
    const b = await connect(broker.mutual.port, mutualOptions())
    expect(await grantedQos(a, [`devices/${idA}/#`])).toEqual([1])
    // The broker has the new rules once B's publishes into A's subtree reach A.
    const reachedA = (topic: string) => toA.some((m) => m.topic === topic)
    await expect
      .poll(
        async () => {
          await b.publishAsync(`devices/${idA}/open`, 'rules applied', { qos: 1 })
          return reachedA(`devices/${idA}/open`)
        },
        { timeout: 5000, interval: 50 },
      )
      .toBe(true)
    await b.publishAsync('bench/two', '2', { qos: 1 })
    await b.publishAsync(`devices/${idA}/secret`, 'withheld', { qos: 1 })
    // Published after the withheld ones, each awaited in turn: once this one is in, they would be too.
    await b.publishAsync(`devices/${idA}/after`, 'sync', { qos: 1 })
    await expect.poll(() => reachedA(`devices/${idA}/after`)).toBe(true)
    expect(toA.map((m) => m.topic)).not.toContain('bench/two')
    expect(toA.map((m) => m.topic)).not.toContain(`devices/${idA}/secret`)
    // Both were publishes the rules allow: refused at delivery, not at publish.
    await broker.log.flushed()
    const refusedPublishes = denials(since).filter((line) => line.startsWith(`${idB}: publish`))
    expect(refusedPublishes.filter((line) => line.includes('"bench/two"') || line.includes(`"devices/${idA}/secret"`))).toEqual([])
    expect(a.connected && b.connected).toBe(true)
    await b.endAsync()
    await expect(workspace.updateTopicRules([{ action: 'all', topic: 'a/#/b', permission: 'allow' }])).rejects.toThrow(
      /Topic rule 1: "a\/#\/b" is not an MQTT topic filter/,
    )
    await a.endAsync()
    await workspace.resetTopicRules()
  })
})
