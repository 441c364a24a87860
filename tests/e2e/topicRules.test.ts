import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TopicRule } from '../../src-main/contract/types'
import { SCREENSHOTS, launchChromium, openScreen, screenshotWhenSettled, signIn, waitForScreen } from '../helpers/browser'
import { connect } from '../helpers/fleet'
import { startServe } from '../helpers/serve'
import { freePort, runCertdeskJson, temporaryFolder } from '../helpers/tools'

// The Authority screen's topic rules in browser mode, proved against the broker `certdesk serve`
// runs: a rule added in the page lets a device in, a reset shuts it out again, a bad filter
// changes nothing. The rules are one setting of the folder: each test saves the set it starts
// from (through the CLI) and waits until the running broker follows it, so any test runs alone or
// in any order.

const DEFAULT_RULES: TopicRule[] = [
  { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
  { action: 'all', topic: '/hello', permission: 'allow' },
]
const FLEET_RULE: TopicRule = { action: 'all', topic: 'fleet/${username}/#', permission: 'allow' }

interface Device {
  deviceId: string
  username: string
  deviceKey: string
}

let folder: string
let dataDir: string
let origin: string
let browser: Browser
let page: Page
let rootPem: string
let oneWayPort: number
/** Username `alice-01`; a second device whose username is `other`; and one that only probes the broker. */
let alice: Device
let other: Device
let probe: Device
/** The connections a test opened, closed when it ends. */
const clients: MqttClient[] = []
let ruleFiles = 0

const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const savedRules = () => cli<TopicRule[]>('broker', 'acl')

const shot = (name: string) => screenshotWhenSettled(page, name)

/** A real mqtt.js device on the one-way port of the broker `serve` runs. */
async function device(who: Device): Promise<MqttClient> {
  const client = await connect(oneWayPort, { ca: rootPem, clientId: who.deviceId, username: who.username, password: who.deviceKey })
  clients.push(client)
  return client
}

/** Whether the broker grants this subscription now (SUBACK 128 rejects); any other failure (a closed connection, say) throws. */
const granted = (client: MqttClient, filter: string) =>
  client.subscribeAsync(filter, { qos: 1 }).then(
    () => true,
    (error: unknown) => {
      // mqtt.js's rejection for a SUBACK return code of 128 (ErrorWithSubackPacket).
      if (error instanceof Error && error.message.startsWith('Subscribe error:')) return false
      throw error
    },
  )

/** The next message on `topic`, or undefined after `ms`. */
function nextMessage(client: MqttClient, topic: string, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => (client.off('message', listener), resolve(undefined)), ms)
    const listener = (received: string, payload: Buffer) => {
      if (received !== topic) return
      clearTimeout(timer)
      client.off('message', listener)
      resolve(payload.toString())
    }
    client.on('message', listener)
  })
}

/**
 * Saves the rules a test starts from, as an operator would with the CLI, waits until the running
 * broker follows them (it looks within a second; the probe device sees when), and opens the
 * Authority screen on them.
 */
async function startFrom(rules: 'default' | TopicRule[]): Promise<void> {
  if (rules === 'default') {
    await cli('broker', 'acl', 'reset')
  } else {
    const file = join(folder, `rules-${++ruleFiles}.json`)
    await writeFile(file, JSON.stringify(rules))
    await cli('broker', 'acl', 'set', '--file', file)
  }
  const fleetAllowed = rules !== 'default' && rules.some((rule) => rule.topic === FLEET_RULE.topic)
  const prober = await device(probe)
  await expect.poll(() => granted(prober, 'fleet/probe/#'), { timeout: 5_000 }).toBe(fleetAllowed)
  await openScreen(page, origin, '/authority', 'authority')
  await page.getByTestId('topic-rules-card').waitFor()
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-e2e-rules-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Rules Root')
  oneWayPort = await freePort()
  await cli('broker', 'settings', '--one-way-port', String(oneWayPort), '--mutual-port', String(await freePort()))
  alice = await cli<Device>(
    'device',
    'create',
    '--name',
    'Alice sensor',
    '--auth',
    'token',
    '--device-id',
    'sensor-000001',
    '--username',
    'alice-01',
  )
  other = await cli<Device>(
    'device',
    'create',
    '--name',
    'Other sensor',
    '--auth',
    'token',
    '--device-id',
    'sensor-000002',
    '--username',
    'other',
  )
  probe = await cli<Device>(
    'device',
    'create',
    '--name',
    'Probe sensor',
    '--auth',
    'token',
    '--device-id',
    'sensor-000003',
    '--username',
    'probe',
  )
  await cli('ca', 'export', '--out', join(folder, 'root_ca.crt'))
  rootPem = await readFile(join(folder, 'root_ca.crt'), 'utf8')
  // `serve` runs the embedded broker too, on the ports saved above; stopped when the file ends.
  const { url } = await startServe(dataDir)
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } })
  origin = await signIn(page, url)
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)))
})

afterAll(async () => {
  await browser?.close()
})

describe('topic rules on the Authority screen (browser mode)', () => {
  it('shows the default rules, and the broker holds a device to them', async () => {
    await startFrom('default')
    expect(await page.getByTestId('rules-default-tag').innerText()).toBe('Default rules')
    const table = await page.getByTestId('topic-rules').innerText()
    expect(table).toContain('devices/${clientid}/#')
    expect(table).toContain('/hello')
    expect(await page.getByTestId('rules-explained').innerText()).toContain(
      'Anything no rule matches is denied; a running broker applies changes within a second.',
    )
    const aliceClient = await device(alice)
    expect(await granted(aliceClient, 'fleet/alice-01/#')).toBe(false)
  })

  it('adds a rule allowing fleet/${username}/#; the running broker lets the device in there and nowhere else', async () => {
    await startFrom('default')
    // Connected before the change, and kept through it.
    const aliceClient = await device(alice)
    expect(await granted(aliceClient, 'fleet/alice-01/#')).toBe(false)
    await page.getByTestId('rules-edit').click()
    await page.getByTestId('rules-add').click()
    await page.getByTestId('rule-topic-2').fill('fleet/${username}/#')
    expect(await page.getByTestId('rules-placeholders').innerText()).toMatch(/\$\{clientid\}.*\$\{username\}/)
    await page.getByTestId('rules-save').click()
    await expect.poll(() => page.getByTestId('rules-default-tag').innerText()).toBe('Customised')
    expect(await page.getByTestId('topic-rules').innerText()).toContain('fleet/${username}/#')
    expect(await savedRules()).toEqual([...DEFAULT_RULES, FLEET_RULE])
    await shot('16-topic-rules')

    // Within a second, on the connection made before the change: its own subtree, publish and receive.
    await expect.poll(() => granted(aliceClient, 'fleet/alice-01/#'), { timeout: 5_000, interval: 250 }).toBe(true)
    const own = nextMessage(aliceClient, 'fleet/alice-01/x', 5_000)
    await aliceClient.publishAsync('fleet/alice-01/x', 'mine', { qos: 1 })
    expect(await own).toBe('mine')

    // Not another username's: the subscription is refused, and a publish there is dropped.
    expect(await granted(aliceClient, 'fleet/other/x')).toBe(false)
    expect(await granted(aliceClient, 'fleet/#')).toBe(false)
    const otherClient = await device(other)
    expect(await granted(otherClient, 'fleet/other/#')).toBe(true)
    const seenByOther: string[] = []
    otherClient.on('message', (topic, payload) => seenByOther.push(`${topic} ${payload.toString()}`))
    await aliceClient.publishAsync('fleet/other/x', 'intruder', { qos: 1 })
    // The owner's own message after it arrives; the intruder's, published first, never does.
    const marker = nextMessage(otherClient, 'fleet/other/x', 5_000)
    await otherClient.publishAsync('fleet/other/x', 'owner', { qos: 1 })
    expect(await marker).toBe('owner')
    expect(seenByOther).toEqual(['fleet/other/x owner'])
  })

  it("refuses a bad filter with the core's sentence, keeps the draft, and changes nothing", async () => {
    await startFrom([...DEFAULT_RULES, FLEET_RULE])
    const before = await readFile(join(dataDir, 'config.json'), 'utf8')
    await page.getByTestId('rules-edit').click()
    await page.getByTestId('rules-add').click()
    await page.getByTestId('rule-topic-3').fill('a/#/b')
    await page.getByTestId('rules-save').click()
    await expect
      .poll(() => page.getByTestId('rules-error').innerText())
      .toBe('Topic rule 4: "a/#/b" is not an MQTT topic filter (# must be a whole level, and the last one).')
    expect(await page.getByTestId('rule-topic-3').inputValue()).toBe('a/#/b')
    await shot('17-topic-rules-refused')
    expect(await readFile(join(dataDir, 'config.json'), 'utf8')).toBe(before)
    expect(await savedRules()).toEqual([...DEFAULT_RULES, FLEET_RULE])

    await page.getByTestId('rules-cancel').click()
    expect(await page.getByTestId('rules-error').count()).toBe(0)
    const table = await page.getByTestId('topic-rules').innerText()
    expect(table).toContain('fleet/${username}/#')
    expect(table).not.toContain('a/#/b')
  })

  it('resets to the defaults after asking, and the broker shuts the device out of fleet/ again', async () => {
    await startFrom([...DEFAULT_RULES, FLEET_RULE])
    // Subscribed under the customised rules, on a connection kept through the reset.
    const aliceClient = await device(alice)
    expect(await granted(aliceClient, 'fleet/alice-01/#')).toBe(true)
    expect(await granted(aliceClient, 'devices/sensor-000001/#')).toBe(true)
    await page.getByTestId('rules-reset').click()
    await page.locator('.el-message-box').waitFor()
    await page.locator('.el-message-box .el-button--primary').click()
    await expect.poll(() => page.getByTestId('rules-default-tag').innerText()).toBe('Default rules')
    const table = await page.getByTestId('topic-rules').innerText()
    expect(table).toContain('devices/${clientid}/#')
    expect(table).not.toContain('fleet/')
    expect(await savedRules()).toEqual(DEFAULT_RULES)
    await expect.poll(() => granted(aliceClient, 'fleet/alice-01/#'), { timeout: 5_000, interval: 250 }).toBe(false)
    expect(await granted(aliceClient, 'devices/sensor-000001/#')).toBe(true)
    // And what it publishes there is dropped again: its own message on a topic still allowed,
    // published after it, arrives; the dropped one never does.
    const seen: string[] = []
    aliceClient.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`))
    await aliceClient.publishAsync('fleet/alice-01/x', 'after reset', { qos: 1 })
    const marker = nextMessage(aliceClient, 'devices/sensor-000001/x', 5_000)
    await aliceClient.publishAsync('devices/sensor-000001/x', 'marker', { qos: 1 })
    expect(await marker).toBe('marker')
    expect(seen).toEqual(['devices/sensor-000001/x marker'])
  })

  it('saves the limits, which the broker reads when it next starts', async () => {
    // The saved limits this test starts from, whatever another left: the defaults.
    await cli('broker', 'settings', '--max-packet-bytes', '262144', '--max-connections', '1000', '--connect-rate', '200')
    await openScreen(page, origin, '/authority', 'authority')
    await waitForScreen(page, 'broker-limits')
    const limits = page.getByTestId('broker-limits')
    expect(await limits.innerText()).toContain('The broker applies limits when it next starts.')
    expect(await page.getByTestId('limit-maxConnections').locator('input').inputValue()).toBe('1000')
    await page.getByTestId('limit-maxConnections').locator('input').fill('500')
    await page.getByTestId('limit-connectRatePerAddress').locator('input').fill('50')
    await page.getByTestId('limits-save').click()
    await expect.poll(async () => (await cli<{ maxConnections: number }>('broker', 'settings')).maxConnections).toBe(500)
    expect(await cli('broker', 'settings')).toMatchObject({ maxPacketBytes: 262_144, maxConnections: 500, connectRatePerAddress: 50 })
    // Out of range: the core's sentence, nothing saved.
    await page.getByTestId('limit-maxPacketBytes').locator('input').fill('100')
    await page.getByTestId('limits-save').click()
    await expect
      .poll(() => page.getByTestId('limits-error').innerText())
      .toBe('The maximum packet size (bytes) must be a whole number from 1024 to 268435455.')
    expect(await cli('broker', 'settings')).toMatchObject({ maxPacketBytes: 262_144 })
  })
})
