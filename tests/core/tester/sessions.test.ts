import { beforeAll, describe, expect, it } from 'vitest'
import { profileForDevice } from '../../../src-main/core/tester/profileSources'
import { TesterSessions } from '../../../src-main/core/tester/sessions'
import type { TesterEvent, TesterMessage } from '../../../src-main/core/tester/types'
import { type Fleet, makeFleet, runBrokerAsSettings } from '../../helpers/fleet'

let fleet: Fleet

beforeAll(async () => {
  fleet = await makeFleet()
  // The default topic rules allow devices/<id>/# and /hello; these tests use bench/#.
  await fleet.workspace.updateTopicRules([
    ...fleet.workspace.getTopicRules().rules,
    { action: 'all', topic: 'bench/#', permission: 'allow' },
  ])
  await runBrokerAsSettings(fleet.workspace)
})

function collector() {
  const events: TesterEvent[] = []
  const messages = () => events.flatMap((e) => (e.type === 'tester-messages' ? e.messages : []))
  const waitFor = async (predicate: (all: TesterMessage[]) => boolean) => {
    await expect.poll(() => predicate(messages()), { timeout: 5000 }).toBe(true)
  }
  return { events, messages, waitFor, sessions: new TesterSessions((event) => events.push(event)) }
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

  it('reports a refused connection as a diagnosis, and a broker-side drop as a state change', async () => {
    const { sessions, events } = collector()
    const profile = await profileForDevice(fleet.workspace, fleet.tokenDevice.deviceId)
    const refused = await sessions.connect({ ...profile, password: 'wrong' })
    expect(refused).toMatchObject({ diagnosis: { code: 'mqtt-bad-credentials' } })

    const opened = await sessions.connect(profile)
    if (!('sessionId' in opened)) throw new Error('expected a session')
    await fleet.workspace.regenerateDeviceKey(fleet.tokenDevice.deviceId)
    await expect
      .poll(() => events.at(-1), { timeout: 3000 })
      .toEqual({
        type: 'tester-state',
        sessionId: opened.sessionId,
        state: 'disconnected',
        reason: 'The broker closed the connection.',
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
