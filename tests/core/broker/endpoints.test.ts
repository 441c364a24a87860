import { describe, expect, it } from 'vitest'
import { clientHostFor, stoppedBrokerStatus } from '../../../src-main/core/broker/endpoints'
import { connect, makeFleet, runBroker } from '../../helpers/fleet'

describe('where clients reach the broker', () => {
  it('dials localhost for wildcard and loopback binds, the address itself otherwise', () => {
    for (const bind of ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost']) expect(clientHostFor(bind), bind).toBe('localhost')
    expect(clientHostFor('192.0.2.10')).toBe('192.0.2.10')
    expect(stoppedBrokerStatus('Not running.', { host: '0.0.0.0', oneWayPort: 1883, mutualPort: 1884 })).toEqual({
      state: 'stopped',
      error: 'Not running.',
      sessions: [],
      endpoints: { host: 'localhost', oneWayPort: 1883, mutualPort: 1884 },
    })
  })

  it('the running broker reports its own status, sessions included, and says when they change', async () => {
    const fleet = await makeFleet()
    const broker = await runBroker(fleet.workspace)
    let changes = 0
    broker.onSessionsChange(() => (changes += 1))
    expect(broker.status()).toMatchObject({
      state: 'running',
      sessions: [],
      endpoints: { host: 'localhost', oneWayPort: broker.oneWay.port, mutualPort: broker.mutual.port },
    })
    const client = await connect(broker.oneWay.port, {
      clientId: fleet.tokenDevice.deviceId,
      username: fleet.tokenDevice.username,
      password: fleet.tokenDevice.deviceKey,
      ca: fleet.rootPem,
    })
    expect(broker.status().sessions.map((session) => session.clientId)).toEqual([fleet.tokenDevice.deviceId])
    await client.endAsync()
    await expect.poll(() => broker.status().sessions.length).toBe(0)
    expect(changes).toBe(2)
  })
})
