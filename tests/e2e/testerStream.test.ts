import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, screenshotWhenSettled, signIn, waitForScreen } from '../helpers/browser'
import { connect } from '../helpers/fleet'
import { brokerOnFreePorts, startServe } from '../helpers/serve'
import { runCertdeskJson, temporaryFolder } from '../helpers/tools'

// The tester's message log under a stream, in Chromium against `certdesk serve` and its broker:
// what it shows, not how fast (that is `npm run bench`). A publisher sends 3,000 messages to the
// page's session, subscribed to `#`; the list holds far fewer rows than that in the DOM, yet the
// oldest is a scroll away, a filter finds it, and a paused view stays put while the counters go on.
// The tests run in order: each continues the one session the first opens. And before any of
// that, the tester's ports: the broker's own, never a made-up one while they are not known yet.

interface Device {
  deviceId: string
  username: string
  deviceKey: string
}

/** UTC+8 all year. */
const TIME_ZONE = 'Asia/Shanghai'
const FIRST = 3000
const MORE = 500

let browser: Browser
let page: Page
let publisher: MqttClient
let origin: string
let ports: { oneWayPort: number; mutualPort: number }

const topicOf = (n: number) => `stream/sensor-${n % 10}/${n}`
const payloadOf = (n: number) => JSON.stringify(n === 0 ? { n, note: 'first-of-stream' } : { n, temperature: 20 + (n % 7) })

/** Publishes messages `from` … `to - 1`, QoS 1 (none lost), a hundred at a time. */
async function publish(from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 100) {
    const batch = Array.from({ length: Math.min(100, to - start) }, (_, i) => start + i)
    await Promise.all(batch.map((n) => publisher.publishAsync(topicOf(n), payloadOf(n), { qos: 1 })))
  }
}

const log = () => page.getByTestId('message-log')
/** The rows in the DOM, by message number (`data-seq` is the log's own numbering, from 0 in this session). */
const domRows = () => log().locator('[data-seq]')
const received = async () => Number(/\d+/.exec(await page.getByTestId('log-received').innerText())?.[0])

/** The topics of the rows that are inside the list's visible area, top to bottom. */
function visibleTopics(): Promise<string[]> {
  return log().evaluate((viewport) => {
    const box = viewport.getBoundingClientRect()
    return [...viewport.querySelectorAll('[data-seq]')]
      .filter((row) => {
        const rect = row.getBoundingClientRect()
        return rect.bottom > box.top + 1 && rect.top < box.bottom - 1
      })
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map((row) => (row.children[2] as { textContent: string | null }).textContent ?? '')
  })
}

beforeAll(async () => {
  const folder = await temporaryFolder('certdesk-stream-')
  const dataDir = join(folder, 'data')
  const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
  await cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Stream Root')
  ports = await brokerOnFreePorts(dataDir)
  // The viewer subscribes to everything: a rule set that allows it, for this folder only.
  const rules = join(folder, 'rules.json')
  await writeFile(rules, JSON.stringify([{ action: 'all', topic: '#', permission: 'allow' }]))
  await cli('broker', 'acl', 'set', '--file', rules)
  await cli('device', 'create', '--name', 'Stream viewer', '--auth', 'token', '--device-id', 'stream-viewer')
  const sender = await cli<Device>('device', 'create', '--name', 'Stream sender', '--auth', 'token', '--device-id', 'stream-sender')
  await cli('ca', 'export', '--out', join(folder, 'root_ca.crt'))
  const served = await startServe(dataDir)
  browser = await launchChromium()
  // A time zone that is not UTC, so the log's local times differ from the messages' own.
  page = await (await browser.newContext({ viewport: { width: 1360, height: 900 }, timezoneId: TIME_ZONE })).newPage()
  origin = await signIn(page, served.url)
  publisher = await connect(ports.oneWayPort, {
    ca: await readFile(join(folder, 'root_ca.crt'), 'utf8'),
    clientId: sender.deviceId,
    username: sender.username,
    password: sender.deviceKey,
  })
})

afterAll(async () => {
  await publisher?.endAsync()
  await browser?.close()
})

describe("the tester's ports", () => {
  it("offers no test until the broker's ports are known, then takes the device's own and the manual default from them", async () => {
    // The broker's status held back, as on a slow first load. (The same page as the stream below:
    // a browser gives one host six connections, and each page's event streams hold some.)
    let release = () => undefined as void
    const held = new Promise<void>((resolve) => (release = resolve))
    await page.route('**/api/call/getBrokerStatus', async (route) => {
      await held
      await route.continue()
    })
    await page.goto('about:blank')
    await page.goto(`${origin}/#/tester?device=stream-viewer`)
    await page.getByTestId('tester-ports-pending').waitFor()
    expect(await page.getByTestId('quick-test').isDisabled()).toBe(true)
    expect(await page.getByTestId('session-connect').isDisabled()).toBe(true)
    expect(await page.getByTestId('tester-port-number').locator('input').inputValue()).toBe('')
    release()
    await waitForScreen(page, 'tester')
    await page.unroute('**/api/call/getBrokerStatus')
    expect(await page.getByTestId('tester-port').locator('label.is-checked').innerText()).toContain(String(ports.oneWayPort))
    expect(await page.getByTestId('quick-test').isDisabled()).toBe(false)
    await page.getByTestId('tester-mode-manual').click()
    expect(await page.getByTestId('manual-port').locator('input').inputValue()).toBe(String(ports.oneWayPort))
    await page.getByTestId('tester-mode-device').click()
  })
})

describe('the tester message log under a stream', () => {
  it('holds thousands of messages with only the rows in sight in the DOM, following the newest', async () => {
    await page.getByTestId('session-connect').click()
    await page.getByTestId('session').waitFor()
    await page.getByTestId('subscribe-topic').fill('#')
    await page.getByTestId('subscribe').click()
    await page.getByTestId('subscription').filter({ hasText: '#' }).waitFor()
    await publish(0, FIRST)
    await expect.poll(received, { timeout: 20_000 }).toBe(FIRST)
    await expect.poll(() => page.getByTestId('log-counts').innerText()).toBe(`${FIRST} kept, 0 older dropped`)
    // Far fewer rows than messages: the list is virtual.
    expect(await domRows().count()).toBeLessThan(100)
    expect(await domRows().count()).toBeGreaterThan(0)
    // Following: the newest message is the last row in sight.
    await expect.poll(async () => (await visibleTopics()).at(-1)).toBe(topicOf(FIRST - 1))
    expect(await page.getByTestId('log-follow').innerText()).toBe('Pause')
  })

  it('scrolls back to the oldest kept message, which stops following', async () => {
    await log().hover()
    await page.mouse.wheel(0, -1_000_000)
    await expect.poll(async () => (await visibleTopics())[0]).toBe(topicOf(0))
    // Scrolling away from the newest is reading: the view no longer follows.
    expect(await page.getByTestId('log-follow').innerText()).toBe('Follow newest')
    expect(await domRows().count()).toBeLessThan(100)
  })

  it('finds a message from the start of the kept window by its payload', async () => {
    await page.getByTestId('log-filter').fill('FIRST-of-stream')
    await expect.poll(() => visibleTopics()).toEqual([topicOf(0)])
    expect(await page.getByTestId('log-matching').innerText()).toBe('1 matching')
    // And by its topic, among all the kept messages.
    await page.getByTestId('log-filter').fill('sensor-3/')
    await expect.poll(() => page.getByTestId('log-matching').innerText()).toBe(`${FIRST / 10} matching`)
    await page.getByTestId('log-filter').fill('')
    await expect.poll(async () => (await visibleTopics())[0]).toBe(topicOf(0))
  })

  it('paused, keeps the rows where they are while the counters keep counting; following again shows the newest', async () => {
    await page.getByTestId('log-follow').click() // follow
    await expect.poll(async () => (await visibleTopics()).at(-1)).toBe(topicOf(FIRST - 1))
    await page.getByTestId('log-follow').click() // pause
    expect(await page.getByTestId('log-follow').innerText()).toBe('Follow newest')
    const shown = await visibleTopics()
    await publish(FIRST, FIRST + MORE)
    await expect.poll(received, { timeout: 20_000 }).toBe(FIRST + MORE)
    await expect.poll(() => page.getByTestId('log-new-while-paused').innerText()).toBe(`${MORE} new since paused`)
    expect(await page.getByTestId('log-counts').innerText()).toBe(`${FIRST + MORE} kept, 0 older dropped`)
    expect(await visibleTopics()).toEqual(shown)
    await screenshotWhenSettled(page, 'tester-stream-paused')
    await page.getByTestId('log-follow').click()
    await expect.poll(async () => (await visibleTopics()).at(-1)).toBe(topicOf(FIRST + MORE - 1))
    expect(await page.getByTestId('log-follow').innerText()).toBe('Pause')
    await expect.poll(() => page.getByTestId('log-new-while-paused').count()).toBe(0)
  })

  it('shows times in local time, and opens a message in full, JSON pretty-printed', async () => {
    const newest = log().locator('[data-seq]').last()
    const [iso, shown] = await newest.locator('time').evaluate((time) => [time.getAttribute('datetime') ?? '', time.textContent ?? ''])
    const local = new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(11, 23)
    expect(shown).toBe(local)
    expect(shown).not.toBe(iso.slice(11, 23))
    await newest.click()
    const detail = page.getByTestId('message-detail')
    await detail.waitFor()
    expect(await detail.innerText()).toContain(topicOf(FIRST + MORE - 1))
    expect(await detail.innerText()).toContain(local)
    expect(await detail.locator('pre').first().innerText()).toBe(JSON.stringify(JSON.parse(payloadOf(FIRST + MORE - 1)), null, 2))
  })

  it('says it all in Chinese too', async () => {
    await page.getByTestId('language').click()
    await page.getByText('简体中文').click()
    await expect.poll(() => page.getByTestId('log-follow').innerText()).toBe('暂停')
    // The rate falls back to nothing once the stream has stopped.
    await expect.poll(() => page.getByTestId('log-received').innerText()).toBe(`已收到 ${FIRST + MORE} 条 · 每秒 0 条`)
    expect(await page.locator('[role="columnheader"]').allInnerTexts()).toEqual(['时间', '⇅', '主题', 'QoS', '保留', '消息内容'])
    await screenshotWhenSettled(page, 'tester-stream-zh')
    await page.getByTestId('language').click()
    await page.getByText('English').click()
  })
})
