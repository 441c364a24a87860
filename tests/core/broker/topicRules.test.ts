import { describe, expect, it } from 'vitest'
import {
  DEFAULT_TOPIC_RULES,
  type TopicRule,
  type TopicRuleSubject,
  bindTopicRules,
  decideTopicAccess,
  filterCovers,
  topicFilterProblem,
  validateTopicRules,
} from '../../../src-main/core/broker/topicRules'

const deviceA = { clientId: 'device-a', username: 'user-a' }
const allowed = (rules: readonly TopicRule[], access: 'publish' | 'subscribe', topic: string, who: TopicRuleSubject = deviceA) =>
  decideTopicAccess(rules, who, access, topic)

describe('MQTT filter matching', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/+', 'a', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['#', 'a/b', true],
    ['+/+', '/x', true],
    ['/hello', '/hello', true],
    ['/hello', 'hello', false],
    ['+', '', true],
  ])('%s matches topic %j: %s', (filter, topic, expected) => {
    expect(filterCovers(filter, topic)).toBe(expected)
  })

  it('leading wildcards never match $ topics; an explicit $SYS filter does (MQTT 4.7.2)', () => {
    expect(filterCovers('#', '$SYS/broker/heartbeat')).toBe(false)
    expect(filterCovers('+/broker/heartbeat', '$SYS/broker/heartbeat')).toBe(false)
    expect(filterCovers('$SYS/#', '$SYS/broker/heartbeat')).toBe(true)
    expect(filterCovers('$SYS/+/heartbeat', '$SYS/broker/heartbeat')).toBe(true)
  })

  it('covers a subscription filter only when every topic it matches is matched', () => {
    expect(filterCovers('devices/a/#', 'devices/a/#')).toBe(true)
    expect(filterCovers('devices/a/#', 'devices/a/+/x')).toBe(true)
    expect(filterCovers('devices/a/#', 'devices/a')).toBe(true)
    expect(filterCovers('devices/+/x', 'devices/a/x')).toBe(true)
    expect(filterCovers('devices/+/x', 'devices/+/x')).toBe(true)
    expect(filterCovers('devices/a/#', '#')).toBe(false)
    expect(filterCovers('devices/a/#', 'devices/+/x')).toBe(false)
    expect(filterCovers('devices/a/#', 'devices/#')).toBe(false)
    expect(filterCovers('devices/a/+', 'devices/a/#')).toBe(false)
    expect(filterCovers('#', '$SYS/#')).toBe(false)
    expect(filterCovers('#', '+/x')).toBe(true)
  })

  it('names what makes a filter invalid', () => {
    expect(topicFilterProblem('a/#')).toBeUndefined()
    expect(topicFilterProblem('')).toMatch(/empty/)
    expect(topicFilterProblem('a/#/b')).toMatch(/# must be/)
    expect(topicFilterProblem('a#')).toMatch(/# must be/)
    expect(topicFilterProblem('a/b+')).toMatch(/\+ must be/)
    expect(topicFilterProblem('a\u0000b')).toMatch(/NUL/)
  })
})

describe('the default rules', () => {
  it('give each device its own subtree and the shared /hello, and nothing else', () => {
    for (const access of ['publish', 'subscribe'] as const) {
      expect(allowed(DEFAULT_TOPIC_RULES, access, 'devices/device-a/temperature')).toBe(true)
      expect(allowed(DEFAULT_TOPIC_RULES, access, 'devices/device-a')).toBe(true)
      expect(allowed(DEFAULT_TOPIC_RULES, access, '/hello')).toBe(true)
      expect(allowed(DEFAULT_TOPIC_RULES, access, 'devices/device-b/temperature')).toBe(false)
      expect(allowed(DEFAULT_TOPIC_RULES, access, 'hello')).toBe(false)
      expect(allowed(DEFAULT_TOPIC_RULES, access, '$SYS/broker/heartbeat')).toBe(false)
    }
    expect(allowed(DEFAULT_TOPIC_RULES, 'subscribe', 'devices/device-a/#')).toBe(true)
    expect(allowed(DEFAULT_TOPIC_RULES, 'subscribe', 'devices/device-a/+/status')).toBe(true)
    expect(allowed(DEFAULT_TOPIC_RULES, 'subscribe', '#')).toBe(false)
    expect(allowed(DEFAULT_TOPIC_RULES, 'subscribe', '+/hello')).toBe(false)
    expect(allowed(DEFAULT_TOPIC_RULES, 'subscribe', 'devices/+/temperature')).toBe(false)
    expect(allowed(DEFAULT_TOPIC_RULES, 'subscribe', 'devices/#')).toBe(false)
    expect(allowed(DEFAULT_TOPIC_RULES, 'subscribe', '$SYS/#')).toBe(false)
  })
})

describe('rules', () => {
  it('first match wins, per action; no match denies', () => {
    const rules: TopicRule[] = [
      { action: 'publish', topic: 'telemetry/${clientid}', permission: 'allow' },
      { action: 'subscribe', topic: 'commands/${clientid}', permission: 'allow' },
      { action: 'all', topic: 'shared/secret', permission: 'deny' },
      { action: 'all', topic: 'shared/#', permission: 'allow' },
    ]
    expect(allowed(rules, 'publish', 'telemetry/device-a')).toBe(true)
    expect(allowed(rules, 'subscribe', 'telemetry/device-a')).toBe(false)
    expect(allowed(rules, 'subscribe', 'commands/device-a')).toBe(true)
    expect(allowed(rules, 'publish', 'commands/device-a')).toBe(false)
    expect(allowed(rules, 'publish', 'shared/secret')).toBe(false)
    expect(allowed(rules, 'publish', 'shared/news')).toBe(true)
    // The deny rule only overlaps shared/#: the subscription is allowed and the secret topic is
    // held back per message (the broker checks each delivery as a 'subscribe' of its topic).
    expect(allowed(rules, 'subscribe', 'shared/#')).toBe(true)
    expect(allowed(rules, 'subscribe', 'shared/secret')).toBe(false)
    expect(allowed(rules, 'publish', 'other')).toBe(false)
    expect(allowed([], 'publish', 'anything')).toBe(false)
  })

  it('a deny rule that covers a subscription refuses it', () => {
    const rules: TopicRule[] = [
      { action: 'subscribe', topic: 'a/#', permission: 'deny' },
      { action: 'all', topic: '#', permission: 'allow' },
    ]
    expect(allowed(rules, 'subscribe', 'a/b/#')).toBe(false)
    expect(allowed(rules, 'subscribe', 'b/#')).toBe(true)
    expect(allowed(rules, 'publish', 'a/b')).toBe(true)
  })

  it('fills ${clientid} and ${username}; a value that would widen a rule makes it not apply', () => {
    const rules: TopicRule[] = [{ action: 'all', topic: 'users/${username}/devices/${clientid}/#', permission: 'allow' }]
    expect(allowed(rules, 'publish', 'users/user-a/devices/device-a/x')).toBe(true)
    expect(allowed(rules, 'publish', 'users/user-b/devices/device-a/x')).toBe(false)
    for (const clientId of ['#', '+', 'a/b', 'x+', '']) {
      const who = { clientId, username: 'user-a' }
      expect(bindTopicRules(rules, who)[0].filter).toBeUndefined()
      expect(allowed(rules, 'subscribe', 'users/user-a/devices/+/x', who)).toBe(false)
      expect(allowed(rules, 'subscribe', 'users/user-a/devices/#', who)).toBe(false)
    }
    expect(allowed(rules, 'publish', 'users/user-a/devices/device-a/x', { clientId: 'device-a' })).toBe(false)
    // A placeholder cannot turn a rule into a $ filter.
    const leading: TopicRule[] = [{ action: 'all', topic: '${username}/#', permission: 'allow' }]
    expect(allowed(leading, 'subscribe', '$SYS/#', { clientId: 'x', username: '$SYS' })).toBe(false)
    expect(allowed(leading, 'subscribe', 'user-a/#')).toBe(true)
  })
})

describe('validation', () => {
  it('keeps valid rules and refuses each kind of mistake with the rule number', () => {
    expect(validateTopicRules([...DEFAULT_TOPIC_RULES])).toEqual(DEFAULT_TOPIC_RULES)
    expect(() => validateTopicRules({})).toThrow(/JSON array/)
    expect(() => validateTopicRules([{ action: 'read', topic: 'a', permission: 'allow' }])).toThrow(/Topic rule 1: action must be publish, subscribe or all/)
    expect(() => validateTopicRules([{ action: 'all', topic: 'a', permission: 'allow' }, { action: 'all', topic: 'a', permission: 'maybe' }])).toThrow(
      /Topic rule 2: permission must be allow or deny/,
    )
    expect(() => validateTopicRules([{ action: 'all', topic: 'a/#/b', permission: 'allow' }])).toThrow(/not an MQTT topic filter \(# must be/)
    expect(() => validateTopicRules([{ action: 'all', topic: 'a/${clientId}', permission: 'allow' }])).toThrow(/not a placeholder/)
    expect(() => validateTopicRules([{ action: 'all', topic: 'a/${clientid', permission: 'allow' }])).toThrow(/does not close/)
    expect(() => validateTopicRules([{ action: 'all', topic: 7, permission: 'allow' }])).toThrow(/topic must be a string/)
    expect(() => validateTopicRules([{ action: 'all', topic: 'a', permission: 'allow', permision: 'deny' }])).toThrow(/field "permision"/)
    expect(() => validateTopicRules(['a'])).toThrow(/not an object/)
    expect(() => validateTopicRules(Array.from({ length: 201 }, () => ({ action: 'all', topic: 'a', permission: 'allow' })))).toThrow(/At most 200/)
  })

  it('a deny rule that cannot be filled in safely denies everything from its place on (it fails closed)', () => {
    const rules: TopicRule[] = [
      { action: 'all', topic: 'plant/${username}/admin/#', permission: 'deny' },
      { action: 'all', topic: 'plant/#', permission: 'allow' },
    ]
    // A username with a level separator would have made the deny miss `plant/line/1/admin/reset`.
    expect(decideTopicAccess(rules, { clientId: 'dev-0001', username: 'line/1' }, 'publish', 'plant/line/1/admin/reset')).toBe(false)
    expect(decideTopicAccess(rules, { clientId: 'dev-0001', username: 'line/1' }, 'publish', 'plant/other')).toBe(false)
    // A safe username is judged by the rules as written.
    expect(decideTopicAccess(rules, { clientId: 'dev-0001', username: 'line1' }, 'publish', 'plant/line1/admin/reset')).toBe(false)
    expect(decideTopicAccess(rules, { clientId: 'dev-0001', username: 'line1' }, 'publish', 'plant/other')).toBe(true)
  })
})
