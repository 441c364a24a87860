/**
 * npm run bench (third part): the broker's topic check, as it runs for every publish and every
 * delivery, against a full rule set (200 rules, a third with placeholders) whose only matching
 * rule is the last. Target: under 20 µs per decision, and binding the set to a device under 1 ms.
 */
import { type TopicRule, bindTopicRules, compileTopicRules, topicAllowed } from '../src-main/core/broker/topicRules'

const DECISIONS = Number(process.env.BENCH_TOPIC_DECISIONS ?? 200_000)
const rules: TopicRule[] = Array.from({ length: 199 }, (_, i) => ({
  action: 'all' as const,
  topic: i % 3 === 0 ? `site-${i}/\${clientid}/+/#` : `site-${i}/+/status/#`,
  permission: i % 5 === 0 ? ('deny' as const) : ('allow' as const),
}))
rules.push({ action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' })

const compiled = compileTopicRules(rules)
const binds = 1_000
let start = performance.now()
for (let i = 0; i < binds; i++) bindTopicRules(compiled, { clientId: `device-${i}`, username: `user-${i}` })
const perBind = (performance.now() - start) / binds

const bound = bindTopicRules(compiled, { clientId: 'device-7', username: 'user-7' })
let allowed = 0
start = performance.now()
for (let i = 0; i < DECISIONS; i++) if (topicAllowed(bound, 'publish', `devices/device-7/sensor-${i % 16}/reading`)) allowed++
const perDecisionUs = ((performance.now() - start) / DECISIONS) * 1000

const ok = allowed === DECISIONS && perDecisionUs < 20 && perBind < 1
console.log(
  `topic rules: ${rules.length} rules, last one matching; ${perDecisionUs.toFixed(2)} µs per decision (target < 20), ` +
    `${perBind.toFixed(3)} ms per device bind (target < 1)  ${ok ? 'met' : 'MISSED'}`,
)
process.exitCode = ok ? 0 : 1
