import { describe, expect, it } from 'vitest'
import {
  DEFAULT_TOPIC_RULES,
  type TopicRule,
  type TopicRuleSubject,
  bindTopicRules,
  compileTopicRules,
  decideTopicAccess,
  filterCovers,
  topicAllowed,
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
      expect(bindTopicRules(compileTopicRules(rules), who)[0].levels).toBeUndefined()
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
    expect(() => validateTopicRules([{ action: 'read', topic: 'a', permission: 'allow' }])).toThrow(
      /Topic rule 1: action must be publish, subscribe or all/,
    )
    expect(() =>
      validateTopicRules([
        { action: 'all', topic: 'a', permission: 'allow' },
        { action: 'all', topic: 'a', permission: 'maybe' },
      ]),
    ).toThrow(/Topic rule 2: permission must be allow or deny/)
    expect(() => validateTopicRules([{ action: 'all', topic: 'a/#/b', permission: 'allow' }])).toThrow(
      /not an MQTT topic filter \(# must be/,
    )
    expect(() => validateTopicRules([{ action: 'all', topic: 'a/${clientId}', permission: 'allow' }])).toThrow(/not a placeholder/)
    expect(() => validateTopicRules([{ action: 'all', topic: 'a/${clientid', permission: 'allow' }])).toThrow(/does not close/)
    expect(() => validateTopicRules([{ action: 'all', topic: 7, permission: 'allow' }])).toThrow(/topic must be a string/)
    expect(() => validateTopicRules([{ action: 'all', topic: 'a', permission: 'allow', permision: 'deny' }])).toThrow(/field "permision"/)
    expect(() => validateTopicRules(['a'])).toThrow(/not an object/)
    expect(() => validateTopicRules(Array.from({ length: 201 }, () => ({ action: 'all', topic: 'a', permission: 'allow' })))).toThrow(
      /At most 200/,
    )
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

/**
 * The matcher as it was before rule sets were compiled: fill the placeholders into the filter
 * string, check the result, match it as a string. The compiled matcher must decide alike.
 */
function referenceDecision(
  rules: readonly TopicRule[],
  subject: TopicRuleSubject,
  access: 'publish' | 'subscribe',
  topic: string,
): boolean {
  const unsafe = (value: string | undefined) => value === undefined || value === '' || /[+#/]/.test(value) || value.includes('\u0000')
  for (const rule of rules) {
    let applies = true
    const filter = rule.topic.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
      const value = name === 'clientid' ? subject.clientId : name === 'username' ? subject.username : undefined
      if (unsafe(value)) applies = false
      return value ?? ''
    })
    if (filter.startsWith('$') && /^\$\{[^}]*\}/.test(rule.topic)) applies = false
    if (applies && topicFilterProblem(filter) !== undefined) applies = false
    const bound = applies ? filter : rule.permission === 'deny' ? '#' : undefined
    if (bound === undefined || (rule.action !== 'all' && rule.action !== access)) continue
    if (filterCovers(bound, topic)) return rule.permission === 'allow'
  }
  return false
}

describe('the compiled matcher', () => {
  const decide = (rules: readonly TopicRule[], who: TopicRuleSubject, access: 'publish' | 'subscribe', topic: string) =>
    topicAllowed(bindTopicRules(compileTopicRules(rules), who), access, topic)

  it('splits each filter once and notes which levels hold placeholders', () => {
    const [fixed, templated] = compileTopicRules([
      { action: 'all', topic: 'shared/+/#', permission: 'allow' },
      { action: 'publish', topic: 'users/${username}/dev-${clientid}.${username}/#', permission: 'deny' },
    ])
    expect(fixed.levels).toEqual(['shared', '+', '#'])
    expect(fixed.placeholderLevels).toEqual([])
    expect(templated.levels).toHaveLength(4)
    expect(templated.placeholderLevels).toEqual([
      { index: 1, texts: ['', ''], names: ['username'] },
      { index: 2, texts: ['dev-', '.', ''], names: ['clientid', 'username'] },
    ])
    // Binding fills only the placeholder levels; a rule without any is shared, not copied.
    const [boundFixed, boundTemplated] = bindTopicRules([fixed, templated], deviceA)
    expect(boundFixed.levels).toBe(fixed.levels)
    expect(boundTemplated.levels).toEqual(['users', 'user-a', 'dev-device-a.user-a', '#'])
    expect(templated.levels[1]).toBe('${username}')
  })

  it('fills placeholders inside a level and next to + and #', () => {
    const rules: TopicRule[] = [
      { action: 'all', topic: 'site/+/dev-${clientid}/#', permission: 'allow' },
      { action: 'subscribe', topic: '+/${username}.${clientid}', permission: 'allow' },
    ]
    expect(decide(rules, deviceA, 'publish', 'site/north/dev-device-a/temp')).toBe(true)
    expect(decide(rules, deviceA, 'publish', 'site/north/dev-device-a')).toBe(true)
    expect(decide(rules, deviceA, 'subscribe', 'site/+/dev-device-a/#')).toBe(true)
    expect(decide(rules, deviceA, 'publish', 'site/north/dev-device-b/temp')).toBe(false)
    expect(decide(rules, deviceA, 'publish', 'site/north/device-a/temp')).toBe(false)
    expect(decide(rules, deviceA, 'subscribe', 'site/+/+/temp')).toBe(false)
    expect(decide(rules, deviceA, 'subscribe', 'fleet/user-a.device-a')).toBe(true)
    expect(decide(rules, deviceA, 'subscribe', '+/user-a.device-a')).toBe(true)
    expect(decide(rules, deviceA, 'publish', 'fleet/user-a.device-a')).toBe(false)
    expect(decide(rules, deviceA, 'subscribe', 'fleet/user-a.device-b')).toBe(false)
  })

  it('keeps $ topics apart: wildcards never reach them, an explicit $SYS rule does, a placeholder never makes one', () => {
    const rules: TopicRule[] = [
      { action: 'subscribe', topic: '$SYS/broker/+', permission: 'allow' },
      { action: 'all', topic: '${clientid}/#', permission: 'allow' },
      { action: 'all', topic: 'mirror/${clientid}/#', permission: 'allow' },
      { action: 'all', topic: '#', permission: 'allow' },
    ]
    expect(decide(rules, deviceA, 'subscribe', '$SYS/broker/uptime')).toBe(true)
    expect(decide(rules, deviceA, 'subscribe', '$SYS/other/uptime')).toBe(false)
    expect(decide(rules, deviceA, 'publish', '$SYS/broker/uptime')).toBe(false)
    expect(decide(rules, deviceA, 'subscribe', '$SYS/#')).toBe(false)
    const sys = { clientId: '$SYS', username: 'u' }
    expect(decide(rules, sys, 'publish', '$SYS/broker/clients')).toBe(false)
    expect(decide(rules, sys, 'subscribe', '$SYS/#')).toBe(false)
    // Not leading, a value starting with $ is just a name.
    expect(decide(rules.slice(2, 3), sys, 'publish', 'mirror/$SYS/x')).toBe(true)
    // A deny that fails closed stands for `#`, which, as MQTT has it, leaves $ topics to later rules.
    const failClosed: TopicRule[] = [
      { action: 'all', topic: 'x/${username}', permission: 'deny' },
      { action: 'subscribe', topic: '$SYS/#', permission: 'allow' },
      { action: 'all', topic: '#', permission: 'allow' },
    ]
    expect(decide(failClosed, { clientId: 'c' }, 'publish', 'anything')).toBe(false)
    expect(decide(failClosed, { clientId: 'c' }, 'subscribe', '$SYS/broker/uptime')).toBe(true)
  })

  it.each(['+', '#', '/', 'a/b', 'a+', '#b', 'a/+', 'a/#', '+/+', 'dev\u0000ice', ''])(
    'a client id %j widens no rule and steps around no deny',
    (clientId) => {
      const allowing: TopicRule[] = [
        { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
        { action: 'all', topic: 'inbox/${clientid}', permission: 'allow' },
      ]
      const who = { clientId, username: 'user-a' }
      for (const access of ['publish', 'subscribe'] as const) {
        for (const topic of [
          'devices/device-b/x',
          'devices/a/b/x',
          'devices/a/x',
          'inbox/a',
          'inbox/a/b',
          'inbox/x',
          `devices/${clientId}/x`,
          `inbox/${clientId}`,
        ]) {
          expect(decide(allowing, who, access, topic), `${access} ${topic}`).toBe(false)
        }
      }
      for (const filter of ['devices/#', 'devices/+/x', 'inbox/+', 'inbox/#', '#'])
        expect(decide(allowing, who, 'subscribe', filter), filter).toBe(false)
      // The same value in a deny: it denies everything after it.
      const denying: TopicRule[] = [
        { action: 'all', topic: 'devices/${clientid}/admin', permission: 'deny' },
        { action: 'all', topic: 'devices/#', permission: 'allow' },
      ]
      expect(decide(denying, who, 'publish', `devices/${clientId}/admin`)).toBe(false)
      expect(decide(denying, who, 'publish', 'devices/a/b/admin')).toBe(false)
      expect(decide(denying, who, 'subscribe', 'devices/#')).toBe(false)
      expect(decide(denying, { clientId: 'ok', username: 'user-a' }, 'publish', 'devices/other/admin')).toBe(true)
    },
  )

  it('a rule with an unknown placeholder (a hand-edited index) applies to no one; as a deny it fails closed', () => {
    const rules: TopicRule[] = [
      { action: 'all', topic: 'a/${clientId}/#', permission: 'allow' },
      { action: 'all', topic: 'b/${x/y}', permission: 'deny' },
      { action: 'all', topic: 'c/#', permission: 'allow' },
    ]
    expect(compileTopicRules(rules).map((rule) => rule.appliesToNone)).toEqual([true, true, false])
    expect(decide(rules, deviceA, 'publish', 'a/device-a/x')).toBe(false)
    expect(decide(rules, deviceA, 'publish', 'c/x')).toBe(false)
    expect(decide(rules.slice(2), deviceA, 'publish', 'c/x')).toBe(true)
  })

  it('a filled filter over 65535 bytes does not apply (a deny fails closed); one at the limit does', () => {
    const allow: TopicRule[] = [{ action: 'all', topic: 'd/${clientid}', permission: 'allow' }]
    // Two bytes per é: `d/` + 65,532 + `x` is 65,535 bytes.
    const atLimit = 'é'.repeat(32_766) + 'x'
    expect(new TextEncoder().encode(`d/${atLimit}`).length).toBe(65_535)
    expect(decide(allow, { clientId: atLimit }, 'publish', `d/${atLimit}`)).toBe(true)
    expect(decide(allow, { clientId: `${atLimit}x` }, 'publish', `d/${atLimit}x`)).toBe(false)
    const deny: TopicRule[] = [
      { action: 'all', topic: 'd/${clientid}', permission: 'deny' },
      { action: 'all', topic: '#', permission: 'allow' },
    ]
    expect(decide(deny, { clientId: `${atLimit}x` }, 'publish', 'elsewhere')).toBe(false)
    expect(decide(deny, { clientId: atLimit }, 'publish', 'elsewhere')).toBe(true)
  })

  it('decides as the string matcher did, for every rule, device, access and topic of a grid', () => {
    const topics = [
      'devices/${clientid}/#',
      'devices/+/status',
      '${clientid}',
      '${username}/${clientid}/+',
      'u-${username}-${clientid}/#',
      '$SYS/#',
      '#',
      '+/#',
      '/hello',
      'a/${clientid}x',
    ]
    const rules: TopicRule[] = topics.flatMap((topic, i) => [
      { action: (['all', 'publish', 'subscribe'] as const)[i % 3], topic, permission: i % 4 === 1 ? 'deny' : 'allow' },
    ])
    const ruleSets = [rules, [...rules].reverse(), rules.filter((_, i) => i % 2 === 0), [rules[1], ...DEFAULT_TOPIC_RULES]]
    const subjects: TopicRuleSubject[] = [
      deviceA,
      { clientId: 'd' },
      { clientId: '$d', username: 'u' },
      { clientId: 'a/b', username: 'u' },
      { clientId: 'd', username: '#' },
      { clientId: '+', username: '' },
    ]
    const probes = [
      'devices/device-a/x',
      'devices/d/status',
      'devices/+/status',
      'devices/#',
      'device-a',
      'd',
      '$d',
      '$SYS/x',
      'u/d/x',
      'user-a/device-a/+',
      'u-user-a-device-a',
      'u-u-d/#',
      '/hello',
      '#',
      '+/x',
      'a/dx',
      'a/b',
      '',
      'devices/a/b/x',
    ]
    let checked = 0
    for (const set of ruleSets) {
      const compiled = compileTopicRules(set)
      for (const subject of subjects) {
        const bound = bindTopicRules(compiled, subject)
        for (const access of ['publish', 'subscribe'] as const) {
          for (const topic of probes) {
            expect(topicAllowed(bound, access, topic), `${JSON.stringify(subject)} ${access} ${topic}`).toBe(
              referenceDecision(set, subject, access, topic),
            )
            checked++
          }
        }
      }
    }
    expect(checked).toBe(ruleSets.length * subjects.length * 2 * probes.length)
  })
})
