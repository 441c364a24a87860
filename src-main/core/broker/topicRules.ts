// Pure functions: the broker's topic policy, its matcher and its validation.
import { invalidInput } from '../errors'
import type { StoreData, TopicRule } from '../store/schema'

export type { TopicRule }

/** What a device does with a topic: publish to it, or subscribe to (and so receive) it. */
export type TopicAccess = 'publish' | 'subscribe'

/** Whose rules: the connected device's client id and username fill the placeholders. */
export interface TopicRuleSubject {
  clientId: string
  username?: string
}

/**
 * When no rules are saved: each device has its own subtree, everyone shares the seed's test
 * topic, and everything else ($SYS included) is denied because no rule matches it.
 */
export const DEFAULT_TOPIC_RULES: readonly TopicRule[] = Object.freeze([
  { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
  { action: 'all', topic: '/hello', permission: 'allow' },
])

export const MAX_TOPIC_RULES = 200
const ACTIONS: readonly TopicRule['action'][] = ['publish', 'subscribe', 'all']
const PERMISSIONS: readonly TopicRule['permission'][] = ['allow', 'deny']
const PLACEHOLDER = /\$\{([^}]*)\}/g
const PLACEHOLDER_NAMES = new Set(['clientid', 'username'])

/** The rules a folder uses: the saved ones, else the default. Throws if the saved ones are damaged. */
export function topicRulesIn(data: StoreData): readonly TopicRule[] {
  const saved = data.broker?.topicRules
  return saved === undefined ? DEFAULT_TOPIC_RULES : validateTopicRules(saved)
}

/** Why `filter` is not a valid MQTT topic filter (3.1.1 §4.7), or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'it is empty'
  if (new TextEncoder().encode(filter).length > 65_535) return 'it is longer than 65535 bytes'
  if (filter.includes('\u0000')) return 'it holds a NUL character'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '# must be a whole level, and the last one'
    if (level.includes('+') && level !== '+') return '+ must be a whole level'
  }
  return undefined
}

/**
 * Whether every topic `inner` matches is also matched by `outer`. With a plain topic as
 * `inner` this is MQTT's filter matching. Conservative: a filter such as `+/#` that covers
 * `#` only by equivalence is reported as not covering it. Filters starting with a wildcard
 * never match topics starting with `$` (MQTT 3.1.1 §4.7.2).
 */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/')
  const n = inner.split('/')
  if ((o[0] === '#' || o[0] === '+') && n[0].startsWith('$')) return false
  for (let i = 0; i < o.length; i++) {
    if (o[i] === '#') return true
    if (i >= n.length) return false
    if (n[i] === '#') return false
    if (o[i] === '+') continue
    if (n[i] === '+' || n[i] !== o[i]) return false
  }
  // `a/#` also matches `a`; that case returned above, so the lengths must agree here.
  return o.length === n.length
}

/** A rule with the device's values filled in; `filter` is undefined when the rule cannot apply. */
export interface BoundTopicRule {
  action: TopicRule['action']
  permission: TopicRule['permission']
  filter: string | undefined
}

/**
 * Fills ${clientid} and ${username}. A value that is empty, or holds a wildcard, a level
 * separator or NUL, would widen the rule, so an allowing rule does not apply to that device; nor
 * does one whose value would turn it into a `$` filter. A denying rule that cannot be filled in
 * safely fails closed: it denies everything from its place on, so an odd username can never
 * step around a deny.
 */
export function bindTopicRules(rules: readonly TopicRule[], subject: TopicRuleSubject): BoundTopicRule[] {
  const unsafe = (value: string | undefined) => value === undefined || value === '' || /[+#/]/.test(value) || value.includes('\u0000')
  return rules.map((rule) => {
    let applies = true
    const filter = rule.topic.replace(PLACEHOLDER, (_whole, name: string) => {
      const value = name === 'clientid' ? subject.clientId : name === 'username' ? subject.username : undefined
      if (unsafe(value)) applies = false
      return value ?? ''
    })
    if (filter.startsWith('$') && /^\$\{[^}]*\}/.test(rule.topic)) applies = false
    if (applies && topicFilterProblem(filter) !== undefined) applies = false
    return { action: rule.action, permission: rule.permission, filter: applies ? filter : rule.permission === 'deny' ? '#' : undefined }
  })
}

/**
 * First match wins; no match denies. A publish topic (or a topic being delivered to a
 * subscriber, checked as 'subscribe') matches a rule whose filter matches it. A subscription
 * filter is allowed only by an allowing rule whose filter covers it entirely, and denied by a
 * denying rule that covers it; a denying rule that only overlaps it is enforced per message
 * at delivery instead, so `deny devices/x/secret` before `allow devices/x/#` still lets
 * `devices/x/#` be subscribed but never delivers `devices/x/secret`.
 */
export function topicAllowed(rules: readonly BoundTopicRule[], access: TopicAccess, topicOrFilter: string): boolean {
  for (const rule of rules) {
    if (rule.filter === undefined || (rule.action !== 'all' && rule.action !== access)) continue
    if (filterCovers(rule.filter, topicOrFilter)) return rule.permission === 'allow'
  }
  return false
}

/** The decision for one device, binding its rules first (tests and one-off checks). */
export function decideTopicAccess(rules: readonly TopicRule[], subject: TopicRuleSubject, access: TopicAccess, topicOrFilter: string): boolean {
  return topicAllowed(bindTopicRules(rules, subject), access, topicOrFilter)
}

/** Checks rules given by an operator (a JSON file, say) and returns clean copies. */
export function validateTopicRules(input: unknown): TopicRule[] {
  if (!Array.isArray(input)) throw invalidInput('Topic rules must be a JSON array of rules such as {"action": "all", "topic": "devices/${clientid}/#", "permission": "allow"}.')
  if (input.length > MAX_TOPIC_RULES) throw invalidInput(`At most ${MAX_TOPIC_RULES} topic rules are kept; these are ${input.length}.`)
  return input.map((candidate: unknown, index) => {
    const where = `Topic rule ${index + 1}`
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      throw invalidInput(`${where} is not an object with action, topic and permission.`)
    }
    const rule = candidate as Record<string, unknown>
    const unknown = Object.keys(rule).find((key) => key !== 'action' && key !== 'topic' && key !== 'permission')
    if (unknown !== undefined) throw invalidInput(`${where} has a field "${unknown}" that is not action, topic or permission.`)
    if (!ACTIONS.includes(rule.action as TopicRule['action'])) {
      throw invalidInput(`${where}: action must be publish, subscribe or all (not ${JSON.stringify(rule.action)}).`)
    }
    if (!PERMISSIONS.includes(rule.permission as TopicRule['permission'])) {
      throw invalidInput(`${where}: permission must be allow or deny (not ${JSON.stringify(rule.permission)}).`)
    }
    if (typeof rule.topic !== 'string') throw invalidInput(`${where}: topic must be a string, an MQTT topic filter.`)
    const topic = rule.topic
    for (const [, name] of topic.matchAll(PLACEHOLDER)) {
      if (!PLACEHOLDER_NAMES.has(name)) throw invalidInput(`${where}: "\${${name}}" in "${topic}" is not a placeholder; use \${clientid} or \${username}.`)
    }
    if (topic.replace(PLACEHOLDER, '').includes('${')) throw invalidInput(`${where}: "${topic}" has a "\${" that does not close a placeholder.`)
    const problem = topicFilterProblem(topic)
    if (problem !== undefined) throw invalidInput(`${where}: "${topic}" is not an MQTT topic filter (${problem}).`)
    return { action: rule.action as TopicRule['action'], topic, permission: rule.permission as TopicRule['permission'] }
  })
}
