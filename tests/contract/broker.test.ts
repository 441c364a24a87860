import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_BROKER_SETTINGS } from '../../src-main/core/broker/settings'
import { createDispatcher, implementApi } from '../../src-main/contract/dispatch'
import type { BrokerSettings, Envelope, TopicRule, TopicRuleSet } from '../../src-main/contract/types'
import { Workspace } from '../../src-main/core/workspace'
import { temporaryFolder } from '../helpers/tools'
import { headlessFrontDoor } from '../helpers/frontDoor'

let workspace: Workspace
let dispatch: ReturnType<typeof createDispatcher>

beforeAll(async () => {
  workspace = await Workspace.initialise(join(await temporaryFolder('certdesk-contract-broker-'), 'data'), { keyType: 'ec-p256' })
  dispatch = createDispatcher(implementApi(workspace, headlessFrontDoor()))
})

const value = <T>(envelope: Envelope) => {
  if (!envelope.ok) throw new Error(envelope.error)
  return envelope.value as T
}
const index = () => readFile(join(workspace.dataDir, 'config.json'), 'utf8')

const DEFAULTS: TopicRule[] = [
  { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
  { action: 'all', topic: '/hello', permission: 'allow' },
]
const FLEET_RULE: TopicRule = { action: 'all', topic: 'fleet/${username}/#', permission: 'allow' }

describe('topic rules through the contract', () => {
  it('reads the defaults, replaces them in order, and resets them', async () => {
    expect(value<TopicRuleSet>(await dispatch('getTopicRules', []))).toEqual({ rules: DEFAULTS, isDefault: true })

    const rules: TopicRule[] = [{ action: 'publish', topic: 'fleet/${clientid}/secret', permission: 'deny' }, ...DEFAULTS, FLEET_RULE]
    expect(value<TopicRuleSet>(await dispatch('updateTopicRules', [rules]))).toEqual({ rules, isDefault: false })
    expect(workspace.getTopicRules().rules).toEqual(rules)
    expect(value<TopicRuleSet>(await dispatch('getTopicRules', []))).toEqual({ rules, isDefault: false })
    // Saved rules equal to the defaults are still saved ones: later defaults would not replace them.
    expect(value<TopicRuleSet>(await dispatch('updateTopicRules', [DEFAULTS]))).toEqual({ rules: DEFAULTS, isDefault: false })

    expect(value<TopicRuleSet>(await dispatch('resetTopicRules', []))).toEqual({ rules: DEFAULTS, isDefault: true })
    expect(workspace.snapshot().broker?.topicRules).toBeUndefined()
    expect(workspace.getAuditLog().entries.filter((entry) => entry.action === 'broker.topic-rules')).toHaveLength(3)
  })

  it("refuses a bad rule with the core's sentence and saves nothing", async () => {
    await dispatch('updateTopicRules', [[...DEFAULTS, FLEET_RULE]])
    const before = await index()
    const refusals: [TopicRule[], string][] = [
      [
        [...DEFAULTS, { action: 'all', topic: 'a/#/b', permission: 'allow' }],
        'Topic rule 3: "a/#/b" is not an MQTT topic filter (# must be a whole level, and the last one).',
      ],
      [
        [{ action: 'all', topic: 'x+/y', permission: 'allow' }],
        'Topic rule 1: "x+/y" is not an MQTT topic filter (+ must be a whole level).',
      ],
      [[{ action: 'all', topic: '', permission: 'allow' }], 'Topic rule 1: "" is not an MQTT topic filter (it is empty).'],
      [
        [{ action: 'all', topic: 'fleet/${device}/#', permission: 'allow' }],
        'Topic rule 1: "${device}" in "fleet/${device}/#" is not a placeholder; use ${clientid} or ${username}.',
      ],
      [Array.from({ length: 201 }, () => FLEET_RULE), 'At most 200 topic rules are kept; these are 201.'],
    ]
    for (const [rules, error] of refusals) {
      expect(await dispatch('updateTopicRules', [rules])).toEqual({
        ok: false,
        error,
        code: 'INVALID_INPUT',
        messageKey: expect.stringMatching(/^topicRules\./),
        params: expect.any(Object),
      })
    }
    expect(await index()).toBe(before)
    expect(value<TopicRuleSet>(await dispatch('getTopicRules', []))).toEqual({ rules: [...DEFAULTS, FLEET_RULE], isDefault: false })
  })

  it('refuses what is not a list of rules before the core sees it', async () => {
    const before = await index()
    const malformed: [unknown, RegExp][] = [
      [[[{ action: 'read', topic: 'x', permission: 'allow' }]], /^The request to updateTopicRules was malformed \(at 0\.0\.action\)/],
      [[[{ ...FLEET_RULE, qos: 1 }]], /^The request to updateTopicRules was malformed \(at 0\.0\)/],
      [[[{ action: 'all', topic: 7, permission: 'allow' }]], /^The request to updateTopicRules was malformed \(at 0\.0\.topic\)/],
      [[FLEET_RULE], /^The request to updateTopicRules was malformed \(at 0\)/],
      [[], /^The request to updateTopicRules was malformed/],
      [[[FLEET_RULE], 'extra'], /^The request to updateTopicRules was malformed/],
    ]
    for (const [args, error] of malformed) {
      expect(await dispatch('updateTopicRules', args)).toMatchObject({
        ok: false,
        error: expect.stringMatching(error),
        code: 'MALFORMED_REQUEST',
      })
    }
    expect(await dispatch('resetTopicRules', [true])).toMatchObject({ ok: false })
    expect(await index()).toBe(before)
  })
})

describe('broker settings through the contract', () => {
  it('reads the defaults and saves the limits', async () => {
    expect(value<BrokerSettings>(await dispatch('getBrokerSettings', []))).toEqual(DEFAULT_BROKER_SETTINGS)
    const limits = { maxPacketBytes: 65_536, maxConnections: 50, connectRatePerAddress: 20 }
    expect(value<BrokerSettings>(await dispatch('updateBrokerSettings', [limits]))).toEqual({ ...DEFAULT_BROKER_SETTINGS, ...limits })
    expect(workspace.getBrokerSettings()).toEqual({ ...DEFAULT_BROKER_SETTINGS, ...limits })
    // A key present but undefined (IPC keeps those) leaves the saved value alone.
    const changed = value<BrokerSettings>(
      await dispatch('updateBrokerSettings', [{ maxConnections: undefined, connectRatePerAddress: 30 }]),
    )
    expect(changed).toMatchObject({ maxConnections: 50, connectRatePerAddress: 30 })
    expect(value<BrokerSettings>(await dispatch('getBrokerSettings', []))).toEqual(changed)
  })

  it("refuses a limit out of range with the core's sentence, and a malformed change before it, saving nothing", async () => {
    const before = await index()
    expect(await dispatch('updateBrokerSettings', [{ maxPacketBytes: 100 }])).toEqual({
      ok: false,
      error: 'The maximum packet size (bytes) must be a whole number from 1024 to 268435455.',
      code: 'INVALID_INPUT',
      messageKey: 'brokerSettings.maxPacketBytesRange',
      params: { min: 1024, max: 268_435_455 },
    })
    expect(await dispatch('updateBrokerSettings', [{ maxConnections: 0 }])).toEqual({
      ok: false,
      error: 'The maximum number of connections must be a whole number from 1 to 100000.',
      code: 'INVALID_INPUT',
      messageKey: 'brokerSettings.maxConnectionsRange',
      params: { min: 1, max: 100_000 },
    })
    expect(await dispatch('updateBrokerSettings', [{ oneWayPort: 70_000 }])).toEqual({
      ok: false,
      error: 'The one-way port must be a whole number from 1 to 65535.',
      code: 'INVALID_INPUT',
      messageKey: 'brokerSettings.oneWayPortRange',
    })
    for (const changes of [{ maxConnections: 1.5 }, { maxConnections: '10' }, { maxSessions: 10 }, { host: 7 }]) {
      expect(await dispatch('updateBrokerSettings', [changes])).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^The request to updateBrokerSettings was malformed \(at 0/),
        code: 'MALFORMED_REQUEST',
      })
    }
    expect(await index()).toBe(before)
  })
})
