import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import type { ConnectionProfile } from '../../../src-main/core/tester/connectionProfile'
import { profileForDevice } from '../../../src-main/core/tester/profileSources'
import { type EmbeddedBroker, TesterSessions } from '../../../src-main/core/tester/sessions'
import type { TesterEvent, TesterMessage } from '../../../src-main/core/tester/types'
import { type Fleet, connect, makeFleet, runBrokerAsSettings } from '../../helpers/fleet'

let fleet: Fleet
let broker: RunningBroker

beforeAll(async () => {
  fleet = await makeFleet()
  // The default topic rules allow devices/<id>/# and /hello; these tests use bench/#.
  await fleet.workspace.updateTopicRules([
    ...fleet.workspace.getTopicRules().rules,
    { action: 'all', topic: 'bench/#', permission: 'allow' },
  ])
  broker = await runBrokerAsSettings(fleet.workspace)
})

/** The embedded broker as the dispatcher describes it to the sessions: its folder and its status. */
const embedded = (): EmbeddedBroker => ({ dataDir: fleet.workspace.dataDir, status: () => broker.status() })

function collector(embeddedBroker?: EmbeddedBroker) {
  const events: TesterEvent[] = []
  const messages = (sessionId?: string) =>
    events.flatMap((e) => (e.type === 'tester-messages' && (sessionId === undefined || e.sessionId === sessionId) ? e.messages : []))
  const waitFor = async (predicate: (all: TesterMessage[]) => boolean, sessionId?: string) => {
    await expect.poll(() => predicate(messages(sessionId)), { timeout: 5000 }).toBe(true)
  }
  const sessions = new TesterSessions((event) => events.push(event), embeddedBroker)
  const open = async (profile: ConnectionProfile) => {
    const opened = await sessions.connect(profile)
    if (!('sessionId' in opened)) throw new Error(JSON.stringify(opened.diagnosis))
    return opened.sessionId
  }
  const stateOf = (sessionId: string) => events.filter((e) => e.type === 'tester-state' && e.sessionId === sessionId).at(-1)
  return { events, messages, waitFor, sessions, open, stateOf }
}

describe('tester sessions', () => {
  it('subscribes, publishes in every encoding, and hears its messages back in batches', async () => {
    const { sessions, events, messages, waitFor } = collector()
    const opened = await sessions.connect(await profileForDevice(fleet.workspace, fleet.certDevice.deviceId))
    if (!('sessionId' in opened)) throw new Error(JSON.stringify(opened.diagnosis))
    const { sessionId } = opened
    expect(events).toContainEqual({ type: 'tester-state', sessionId, state: 'connected' })
    await sessions.subscribe(sessionId, 'bench/#', 1)
    await sessions.publish(sessionId, { topic: 'bench/text', payload: 'héllo', encoding: 'text', qos: 1, retain: false })
    await sessions.publish(sessionId, { topic: 'bench/json', payload: '{ "hello" :  "world" }', encoding: 'json', qos: 0, retain: false })
    await sessions.publish(sessionId, { topic: 'bench/hex', payload: 'de ad be ef', encoding: 'hex', qos: 1, retain: false })
    await sessions.publish(sessionId, { topic: 'bench/b64', payload: 'AAEC', encoding: 'base64', qos: 2, retain: false })
    await waitFor((all) => all.filter((m) => m.direction === 'in').length === 4)
    const received = Object.fromEntries(
      messages()
        .filter((m) => m.direction === 'in')
        .map((m) => [m.topic, Buffer.from(m.payloadBase64, 'base64')]),
    )
    expect(received['bench/text'].toString()).toBe('héllo')
    expect(received['bench/json'].toString()).toBe('{"hello":"world"}')
    expect(received['bench/hex'].toString('hex')).toBe('deadbeef')
    expect([...received['bench/b64']]).toEqual([0, 1, 2])
    expect(messages().filter((m) => m.direction === 'out')).toHaveLength(4)
    // Eight messages, far fewer events: they travel in batches.
    expect(events.filter((e) => e.type === 'tester-messages').length).toBeLessThan(8)

    await expect(sessions.publish(sessionId, { topic: 'bench/x', payload: 'xyz', encoding: 'hex', qos: 0, retain: false })).rejects.toThrow(
      /not hex/,
    )
    await expect(sessions.publish(sessionId, { topic: 'bench/x', payload: '{', encoding: 'json', qos: 0, retain: false })).rejects.toThrow(
      /not valid JSON/,
    )
    await sessions.unsubscribe(sessionId, 'bench/#')
    await sessions.disconnect(sessionId)
    expect(events.at(-1)).toEqual({ type: 'tester-state', sessionId, state: 'disconnected' })
    await expect(sessions.subscribe(sessionId, 'x', 0)).rejects.toThrow(/closed; connect again/)
  })

  it("reports a refused connection as a diagnosis and a broker-side drop as a state change, each with the broker's logged reason", async () => {
    const { sessions, events } = collector(embedded())
    const profile = await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId)
    const refused = await sessions.connect({ ...profile, password: 'wrong' })
    expect(refused).toMatchObject({ diagnosis: { code: 'mqtt-bad-credentials', brokerReason: 'wrong device key' } })

    const opened = await sessions.connect(profile)
    if (!('sessionId' in opened)) throw new Error('expected a session')
    await fleet.workspace.regenerateDeviceKey(fleet.tokenDevice.deviceId)
    await expect
      .poll(() => events.at(-1), { timeout: 3000 })
      .toEqual({
        type: 'tester-state',
        sessionId: opened.sessionId,
        state: 'disconnected',
        reason: "Certdesk's broker closed the connection: wrong device key.",
        reasonMessage: { key: 'tester.closedByCertdesk', params: { reason: 'wrong device key' } },
        brokerReason: 'wrong device key',
        brokerReasonMessage: { key: 'refusal.wrongDeviceKey' },
      })
  })

  it('says only that the broker closed the connection when the peer is not known as the embedded broker', async () => {
    // The same broker, but the sessions were told of none, or of one on other ports.
    const stopped: EmbeddedBroker = { dataDir: fleet.workspace.dataDir, status: () => ({ ...broker.status(), oneWay: undefined }) }
    for (const embeddedBroker of [undefined, stopped]) {
      const { open, stateOf } = collector(embeddedBroker)
      const sessionId = await open(await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId))
      await fleet.workspace.regenerateDeviceKey(fleet.tokenDevice.deviceId)
      await expect
        .poll(() => stateOf(sessionId), { timeout: 3000 })
        .toEqual({
          type: 'tester-state',
          sessionId,
          state: 'disconnected',
          reason: 'The broker closed the connection.',
          reasonMessage: { key: 'tester.brokerClosed' },
        })
    }
  })

  it('holds two connections at once, each hearing its own messages in events that name it', async () => {
    const { sessions, events, messages, waitFor, open, stateOf } = collector(embedded())
    const token = await open(await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId))
    const cert = await open(await profileForDevice(fleet.workspace, fleet.certDevice.deviceId))
    expect(token).not.toBe(cert)
    const own = { [token]: `devices/${fleet.tokenDevice.deviceId}`, [cert]: `devices/${fleet.certDevice.deviceId}` }
    for (const [sessionId, prefix] of Object.entries(own)) await sessions.subscribe(sessionId, `${prefix}/#`, 1)
    for (let n = 0; n < 3; n++) {
      for (const [sessionId, prefix] of Object.entries(own)) {
        await sessions.publish(sessionId, { topic: `${prefix}/up`, payload: `${n}`, encoding: 'text', qos: 1, retain: false })
      }
    }
    for (const sessionId of [token, cert]) await waitFor((all) => all.filter((m) => m.direction === 'in').length === 3, sessionId)
    for (const [sessionId, prefix] of Object.entries(own)) {
      expect(new Set(messages(sessionId).map((m) => m.topic))).toEqual(new Set([`${prefix}/up`]))
      expect(messages(sessionId).map((m) => `${m.direction} ${Buffer.from(m.payloadBase64, 'base64').toString()}`)).toEqual(
        expect.arrayContaining(['out 0', 'out 1', 'out 2', 'in 0', 'in 1', 'in 2']),
      )
    }
    expect(events.every((e) => e.sessionId === token || e.sessionId === cert)).toBe(true)

    // Closing one leaves the other as it was.
    await sessions.disconnect(token)
    await sessions.publish(cert, { topic: `${own[cert]}/up`, payload: 'after', encoding: 'text', qos: 1, retain: false })
    await waitFor((all) => all.some((m) => m.direction === 'in' && Buffer.from(m.payloadBase64, 'base64').toString() === 'after'), cert)
    expect(stateOf(token)).toEqual({ type: 'tester-state', sessionId: token, state: 'disconnected' })
    expect(stateOf(cert)).toEqual({ type: 'tester-state', sessionId: cert, state: 'connected' })
    await sessions.disconnect(cert)
  })

  it("publishes the session's will when the broker drops it, and names the broker's reason (certificate disabled)", async () => {
    const { open, stateOf } = collector(embedded())
    const willTopic = `bench/will/${fleet.certDevice.deviceId}`
    const profile = await profileForDevice(fleet.workspace, fleet.certDevice.deviceId)
    const sessionId = await open({
      ...profile,
      will: { topic: willTopic, payload: '{ "online": false }', encoding: 'json', qos: 1, retain: false },
    })
    // Another device listens: bench/# is open to every device in this file.
    const watcher = await connect(broker.oneWay.port, {
      clientId: fleet.tokenDevice.deviceId,
      username: fleet.tokenDevice.username,
      password: await fleet.workspace.revealDeviceKey(fleet.tokenDevice.deviceId),
      ca: fleet.rootPem,
    })
    await watcher.subscribeAsync(willTopic, { qos: 1 })
    const will = new Promise<string>((resolve) =>
      watcher.on('message', (topic, payload) => topic === willTopic && resolve(payload.toString())),
    )

    await fleet.workspace.updateCertificate(fleet.certificate.id, { enabled: false })
    try {
      expect(await will).toBe('{"online":false}')
      await expect
        .poll(() => stateOf(sessionId), { timeout: 3000 })
        .toEqual({
          type: 'tester-state',
          sessionId,
          state: 'disconnected',
          reason: "Certdesk's broker closed the connection: certificate is disabled.",
          reasonMessage: { key: 'tester.closedByCertdesk', params: { reason: 'certificate is disabled' } },
          brokerReason: 'certificate is disabled',
          brokerReasonMessage: { key: 'refusal.certificateDisabled' },
        })
    } finally {
      await fleet.workspace.updateCertificate(fleet.certificate.id, { enabled: true })
      await watcher.endAsync()
    }
  })

  it('refuses MQTT 5 properties on a 3.1.1 connection in one sentence, and a will or response topic with a wildcard', async () => {
    const { sessions, events, open } = collector(embedded())
    const profile = await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId)
    expect(profile.protocolVersion).toBe(4)
    await expect(sessions.connect({ ...profile, connectProperties: { sessionExpiryInterval: 60 } })).rejects.toThrow(
      'MQTT 5 CONNECT properties need an MQTT 5.0 connection, and this one is MQTT 3.1.1: choose 5.0 or remove the properties.',
    )
    await expect(
      sessions.connect({ ...profile, will: { topic: 'devices/+/status', payload: 'x', encoding: 'text', qos: 0, retain: false } }),
    ).rejects.toThrow('The will topic "devices/+/status" contains + or #; wildcards belong in subscriptions only.')
    expect(events).toEqual([])

    // Unset properties (empty strings, empty lists) are no properties: 3.1.1 takes them.
    const sessionId = await open({ ...profile, connectProperties: { userProperties: [] } })
    const topic = `devices/${fleet.tokenDevice.deviceId}/up`
    await expect(
      sessions.publish(sessionId, {
        topic,
        payload: 'x',
        encoding: 'text',
        qos: 0,
        retain: false,
        properties: { contentType: 'text/plain' },
      }),
    ).rejects.toThrow(
      'MQTT 5 publish properties need an MQTT 5.0 connection, and this one is MQTT 3.1.1: choose 5.0 or remove the properties.',
    )
    await sessions.publish(sessionId, { topic, payload: 'x', encoding: 'text', qos: 0, retain: false, properties: { contentType: '' } })
    await sessions.disconnect(sessionId)
  })

  it('diagnoses MQTT 5.0 against the embedded broker (aedes serves 3.1.1) with the reason the broker logged', async () => {
    const { sessions } = collector(embedded())
    const profile = await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId)
    const refused = await sessions.connect({ ...profile, protocolVersion: 5, connectProperties: { sessionExpiryInterval: 10 } })
    expect(refused).toMatchObject({
      diagnosis: { code: 'mqtt-unsupported-protocol', brokerReason: expect.stringMatching(/5\.0 is not served/) },
    })
  })

  it("names a subscription the broker's topic rules refuse, in one sentence, and keeps the session", async () => {
    const { sessions, events, waitFor } = collector()
    const opened = await sessions.connect(await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId))
    if (!('sessionId' in opened)) throw new Error(JSON.stringify(opened.diagnosis))
    const { sessionId } = opened
    for (const filter of ['#', 'devices/another-device/#']) {
      await expect(sessions.subscribe(sessionId, filter, 1)).rejects.toThrow(
        `The broker refused the subscription to "${filter}" (SUBACK 128, failure); Certdesk's own broker does so when its topic rules do not allow the filter (see them on Authority, or with certdesk broker acl).`,
      )
    }
    // The connection stays, and an allowed filter still works on it.
    await sessions.subscribe(sessionId, `devices/${fleet.tokenDevice.deviceId}/#`, 1)
    await sessions.publish(sessionId, {
      topic: `devices/${fleet.tokenDevice.deviceId}/up`,
      payload: 'ok',
      encoding: 'text',
      qos: 1,
      retain: false,
    })
    await waitFor((all) => all.some((m) => m.direction === 'in' && m.topic === `devices/${fleet.tokenDevice.deviceId}/up`))
    expect(events.filter((e) => e.type === 'tester-state' && e.sessionId === sessionId)).toEqual([
      { type: 'tester-state', sessionId, state: 'connected' },
    ])
    await sessions.disconnect(sessionId)
  })
})
