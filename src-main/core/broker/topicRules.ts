// Pure functions: the broker's topic policy, its matcher and its validation.
import { invalidInput } from '../errors'
import { message } from '../messages'
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

const MAX_TOPIC_RULES = 200
const ACTIONS: readonly TopicRule['action'][] = ['publish', 'subscribe', 'all']
const PERMISSIONS: readonly TopicRule['permission'][] = ['allow', 'deny']
const PLACEHOLDER = /\$\{([^}]*)\}/g
const PLACEHOLDER_NAMES = new Set(['clientid', 'username'])

/** The rules a folder uses: the saved ones, else the default. Throws if the saved ones are damaged. */
export function topicRulesIn(data: StoreData): readonly TopicRule[] {
  const saved = data.broker?.topicRules
  return saved === undefined ? DEFAULT_TOPIC_RULES : validateTopicRules(saved)
}

/** MQTT's limit on a topic filter, in UTF-8 bytes (3.1.1 §1.5.3). */
const MAX_FILTER_BYTES = 65_535
const utf8 = new TextEncoder()
const utf8Length = (text: string) => utf8.encode(text).length

/** The ways a topic filter can be malformed: in words, and as the refusal of a topic rule. */
const FILTER_PROBLEMS = {
  empty: { said: 'it is empty', ruleRefusal: 'topicRules.filterEmpty' },
  tooLong: { said: 'it is longer than 65535 bytes', ruleRefusal: 'topicRules.filterTooLong' },
  nul: { said: 'it holds a NUL character', ruleRefusal: 'topicRules.filterNul' },
  hash: { said: '# must be a whole level, and the last one', ruleRefusal: 'topicRules.filterHash' },
  plus: { said: '+ must be a whole level', ruleRefusal: 'topicRules.filterPlus' },
} as const
type FilterProblem = keyof typeof FILTER_PROBLEMS

function filterProblem(filter: string): FilterProblem | undefined {
  if (filter.length === 0) return 'empty'
  if (utf8Length(filter) > MAX_FILTER_BYTES) return 'tooLong'
  return filterShapeProblem(filter)
}

/** Why `filter` is not a valid MQTT topic filter (3.1.1 §4.7), or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  const problem = filterProblem(filter)
  return problem === undefined ? undefined : FILTER_PROBLEMS[problem].said
}

/** The checks of topicFilterProblem that do not depend on the filter's length. */
function filterShapeProblem(filter: string): FilterProblem | undefined {
  if (filter.includes('\u0000')) return 'nul'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'hash'
    if (level.includes('+') && level !== '+') return 'plus'
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
  return levelsCover(outer.split('/'), inner.split('/'))
}

/** filterCovers on filters already split into levels: what runs per message. */
function levelsCover(o: readonly string[], n: readonly string[]): boolean {
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

type PlaceholderName = 'clientid' | 'username'

/** A level of a rule's filter that holds placeholders: the text around them, and their names. */
interface PlaceholderLevel {
  index: number
  /** One more than `names`: the level is texts[0] + value of names[0] + texts[1] + … */
  texts: readonly string[]
  names: readonly PlaceholderName[]
}

/**
 * A rule with its filter split into levels once, when the rule set is loaded, so that binding
 * it to a device fills only its placeholder levels and a message splits no rule's filter.
 */
interface CompiledTopicRule {
  readonly action: TopicRule['action']
  readonly permission: TopicRule['permission']
  /** The filter's levels; a placeholder level holds its text as written until it is filled. */
  readonly levels: readonly string[]
  /** The levels holding ${clientid} or ${username}; none for most rules. */
  readonly placeholderLevels: readonly PlaceholderLevel[]
  /** Applies to no device: not a valid filter whatever is filled in, or an unknown placeholder. */
  readonly appliesToNone: boolean
  /** Starts with a placeholder, whose value must not turn the rule into a `$` filter. */
  readonly startsWithPlaceholder: boolean
  /** An upper bound on the filter's UTF-8 size outside its placeholders. */
  readonly fixedBytes: number
}

/** A rule set compiled once (compileTopicRules), bound to each device (bindTopicRules). */
export type CompiledTopicRules = readonly CompiledTopicRule[]

const PLACEHOLDER_AT_START = /^\$\{[^}]*\}/
const PLACEHOLDER_SPLIT = /\$\{([^}]*)\}/

function compileTopicRule(rule: TopicRule): CompiledTopicRule {
  const { action, permission, topic } = rule
  const names = [...topic.matchAll(PLACEHOLDER)].map(([, name]) => name)
  const levels = Object.freeze(topic.split('/'))
  const compiled = {
    action,
    permission,
    levels,
    placeholderLevels: [],
    startsWithPlaceholder: PLACEHOLDER_AT_START.test(topic),
    fixedBytes: 0,
  }
  // An unknown placeholder has no value for anyone (validation refuses it; a hand edit may not).
  if (names.some((name) => !PLACEHOLDER_NAMES.has(name))) return Object.freeze({ ...compiled, appliesToNone: true })
  if (names.length === 0) return Object.freeze({ ...compiled, appliesToNone: topicFilterProblem(topic) !== undefined })
  // A known placeholder holds no `/`, so each lies within one level. A value that can fill it is
  // non-empty and free of `+`, `#`, `/` and NUL, so the filled filter has the template's shape:
  // only its length is left to check per device.
  const placeholderLevels: PlaceholderLevel[] = []
  let fixedBytes = levels.length - 1
  levels.forEach((level, index) => {
    const parts = level.split(PLACEHOLDER_SPLIT)
    const texts = parts.filter((_, i) => i % 2 === 0)
    fixedBytes += texts.reduce((sum, text) => sum + utf8Length(text), 0)
    if (parts.length > 1) {
      placeholderLevels.push(Object.freeze({ index, texts, names: parts.filter((_, i) => i % 2 === 1) as PlaceholderName[] }))
    }
  })
  return Object.freeze({ ...compiled, placeholderLevels, fixedBytes, appliesToNone: filterShapeProblem(topic) !== undefined })
}

/** Compiles a rule set: once per set, when it is loaded or changes, never per device or message. */
export function compileTopicRules(rules: readonly TopicRule[]): CompiledTopicRules {
  return Object.freeze(rules.map(compileTopicRule))
}

/** A rule with the device's values filled in; `levels` is undefined when the rule cannot apply. */
export interface BoundTopicRule {
  action: TopicRule['action']
  permission: TopicRule['permission']
  levels: readonly string[] | undefined
}

/** What a denying rule that cannot be filled in safely matches: everything but `$` topics. */
const FAIL_CLOSED: readonly string[] = Object.freeze(['#'])

/** A placeholder's value, or undefined when it would widen the rule (see bindTopicRules). */
interface PlaceholderValue {
  text: string
  bytes: number
}

function placeholderValue(value: string | undefined): PlaceholderValue | undefined {
  if (value === undefined || value === '' || /[+#/]/.test(value) || value.includes('\u0000')) return undefined
  return { text: value, bytes: utf8Length(value) }
}

/** The rule's levels with the device's values filled in, or undefined when it does not apply. */
function filledLevels(
  rule: CompiledTopicRule,
  values: Record<PlaceholderName, PlaceholderValue | undefined>,
): readonly string[] | undefined {
  if (rule.appliesToNone) return undefined
  if (rule.placeholderLevels.length === 0) return rule.levels
  const levels = [...rule.levels]
  let bytes = rule.fixedBytes
  for (const { index, texts, names } of rule.placeholderLevels) {
    let level = texts[0]
    for (let i = 0; i < names.length; i++) {
      const value = values[names[i]]
      if (value === undefined) return undefined
      level += value.text + texts[i + 1]
      bytes += value.bytes
    }
    levels[index] = level
  }
  if (rule.startsWithPlaceholder && levels[0].startsWith('$')) return undefined
  // `bytes` sums the parts, which is never less than the whole: measure the whole only past the limit.
  if (bytes > MAX_FILTER_BYTES && utf8Length(levels.join('/')) > MAX_FILTER_BYTES) return undefined
  return levels
}

/**
 * Fills ${clientid} and ${username}. A value that is empty, or holds a wildcard, a level
 * separator or NUL, would widen the rule, so an allowing rule does not apply to that device; nor
 * does one whose value would turn it into a `$` filter. A denying rule that cannot be filled in
 * safely fails closed: it denies everything from its place on, so an odd username can never
 * step around a deny.
 */
export function bindTopicRules(rules: CompiledTopicRules, subject: TopicRuleSubject): BoundTopicRule[] {
  const values = { clientid: placeholderValue(subject.clientId), username: placeholderValue(subject.username) }
  return rules.map((rule) => {
    const levels = filledLevels(rule, values)
    return { action: rule.action, permission: rule.permission, levels: levels ?? (rule.permission === 'deny' ? FAIL_CLOSED : undefined) }
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
  const topic = topicOrFilter.split('/')
  for (const rule of rules) {
    if (rule.levels === undefined || (rule.action !== 'all' && rule.action !== access)) continue
    if (levelsCover(rule.levels, topic)) return rule.permission === 'allow'
  }
  return false
}

/** The decision for one device, compiling and binding its rules first (tests and one-off checks). */
export function decideTopicAccess(
  rules: readonly TopicRule[],
  subject: TopicRuleSubject,
  access: TopicAccess,
  topicOrFilter: string,
): boolean {
  return topicAllowed(bindTopicRules(compileTopicRules(rules), subject), access, topicOrFilter)
}

/** Checks rules given by an operator (a JSON file, say) and returns clean copies. */
export function validateTopicRules(input: unknown): TopicRule[] {
  if (!Array.isArray(input)) throw invalidInput(message('topicRules.notArray'))
  if (input.length > MAX_TOPIC_RULES) throw invalidInput(message('topicRules.tooMany', { max: MAX_TOPIC_RULES, count: input.length }))
  return input.map((candidate: unknown, index) => {
    const position = index + 1
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      throw invalidInput(message('topicRules.notObject', { position }))
    }
    const rule = candidate as Record<string, unknown>
    const unknown = Object.keys(rule).find((key) => key !== 'action' && key !== 'topic' && key !== 'permission')
    if (unknown !== undefined) throw invalidInput(message('topicRules.unknownField', { position, field: unknown }))
    if (!ACTIONS.includes(rule.action as TopicRule['action'])) {
      throw invalidInput(message('topicRules.badAction', { position, value: String(JSON.stringify(rule.action)) }))
    }
    if (!PERMISSIONS.includes(rule.permission as TopicRule['permission'])) {
      throw invalidInput(message('topicRules.badPermission', { position, value: String(JSON.stringify(rule.permission)) }))
    }
    if (typeof rule.topic !== 'string') throw invalidInput(message('topicRules.topicNotText', { position }))
    const topic = rule.topic
    for (const [, name] of topic.matchAll(PLACEHOLDER)) {
      if (!PLACEHOLDER_NAMES.has(name)) {
        throw invalidInput(message('topicRules.unknownPlaceholder', { position, placeholder: `\${${name}}`, topic }))
      }
    }
    if (topic.replace(PLACEHOLDER, '').includes('${')) throw invalidInput(message('topicRules.unclosedPlaceholder', { position, topic }))
    const problem = filterProblem(topic)
    if (problem !== undefined) throw invalidInput(message(FILTER_PROBLEMS[problem].ruleRefusal, { position, topic }))
    return { action: rule.action as TopicRule['action'], topic, permission: rule.permission as TopicRule['permission'] }
  })
}
