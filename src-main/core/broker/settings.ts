import { isIP } from 'node:net'
import { invalidInput } from '../errors'
import { message } from '../messages'
import type { RegistryStore } from '../store/registryStore'
import type { BrokerSettings, TopicRule } from '../store/schema'
import { validateServerName } from './serverCertificate'
import { DEFAULT_TOPIC_RULES, topicRulesIn, validateTopicRules } from './topicRules'

export const DEFAULT_BROKER_SETTINGS: BrokerSettings = {
  host: '127.0.0.1',
  oneWayPort: 8883,
  mutualPort: 8884,
  extraNames: [],
  // Azure IoT Hub's cap; AWS IoT allows 128 KB. Bounds what the MQTT parser buffers per client.
  maxPacketBytes: 262_144,
  // With the packet cap, worst-case buffering is about 1000 x 256 KiB.
  maxConnections: 1000,
  // 20 TLS handshakes a second from one address; bench scripts and test suites fit under it.
  connectRatePerAddress: 200,
}

function validatePort(value: number, which: 'oneWay' | 'mutual'): number {
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw invalidInput(message(which === 'oneWay' ? 'brokerSettings.oneWayPortRange' : 'brokerSettings.mutualPortRange'))
  }
  return value
}

/** The limits' allowed ranges: a packet cap below 1 KiB would refuse ordinary traffic. */
const LIMIT_RANGES = {
  maxPacketBytes: { min: 1024, max: 268_435_455, refusal: 'brokerSettings.maxPacketBytesRange' },
  maxConnections: { min: 1, max: 100_000, refusal: 'brokerSettings.maxConnectionsRange' },
  connectRatePerAddress: { min: 1, max: 100_000, refusal: 'brokerSettings.connectRatePerAddressRange' },
} as const

function validateLimit(name: keyof typeof LIMIT_RANGES, value: number): void {
  const { min, max, refusal } = LIMIT_RANGES[name]
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidInput(message(refusal, { min, max }))
  }
}

export function brokerSettings(store: RegistryStore): BrokerSettings {
  return { ...DEFAULT_BROKER_SETTINGS, ...store.read().broker?.settings }
}

/** Saved settings: what the desktop app's broker uses, and `certdesk broker`'s defaults. */
export async function updateBrokerSettings(store: RegistryStore, changes: Partial<BrokerSettings>): Promise<BrokerSettings> {
  // A key given as undefined (an optional flag not passed, IPC keeping empty keys) changes nothing.
  const update = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<BrokerSettings>
  if (update.host !== undefined && !isIP(update.host) && update.host !== 'localhost') {
    throw invalidInput(message('brokerSettings.hostNotAddress', { host: update.host }))
  }
  if (update.oneWayPort !== undefined) validatePort(update.oneWayPort, 'oneWay')
  if (update.mutualPort !== undefined) validatePort(update.mutualPort, 'mutual')
  update.extraNames?.forEach(validateServerName)
  for (const name of Object.keys(LIMIT_RANGES) as (keyof typeof LIMIT_RANGES)[]) {
    const value = update[name]
    if (value !== undefined) validateLimit(name, value)
  }
  return store.mutate((data) => {
    const settings = { ...DEFAULT_BROKER_SETTINGS, ...data.broker?.settings, ...update }
    if (settings.oneWayPort === settings.mutualPort) {
      throw invalidInput(message('brokerSettings.portsEqual', { port: settings.oneWayPort }))
    }
    data.broker = { ...data.broker, settings }
    return settings
  })
}

/** The broker's topic rules in order (first match wins, no match denies); `isDefault` when none are saved. */
export interface TopicRuleSet {
  rules: TopicRule[]
  isDefault: boolean
}

/** The rules in force and whether they are the defaults (nothing saved), as the screens and `broker acl` show them. */
export function topicRuleSet(store: RegistryStore): TopicRuleSet {
  return { rules: topicRules(store), isDefault: store.read().broker?.topicRules === undefined }
}

/** The folder's topic rules: the saved ones, else the default. */
function topicRules(store: RegistryStore): TopicRule[] {
  return structuredClone([...topicRulesIn(store.read())])
}

/** Replaces the topic rules (ordered, first match wins); a running broker uses them within a second. */
export async function updateTopicRules(store: RegistryStore, rules: unknown): Promise<TopicRuleSet> {
  const valid = validateTopicRules(rules)
  await store.mutate((data) => {
    data.broker = { ...data.broker, topicRules: valid }
  })
  return { rules: structuredClone(valid), isDefault: false }
}

/** Back to the default rules (and to whatever later versions make the default). */
export async function resetTopicRules(store: RegistryStore): Promise<TopicRuleSet> {
  await store.mutate((data) => {
    if (data.broker) delete data.broker.topicRules
  })
  return { rules: structuredClone([...DEFAULT_TOPIC_RULES]), isDefault: true }
}
