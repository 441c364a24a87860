import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, openScreen, screenshotWhenSettled, signIn } from '../helpers/browser'
import { brokerOnFreePorts, startServe } from '../helpers/serve'
import { runCertdeskJson, temporaryFolder } from '../helpers/tools'

// The tester holds several connections at once, one tab each (as MQTTX does), in Chromium against
// `certdesk serve` and its broker: a device's session and a manual one open together, each tab
// with its own message log and counters, kept when the other tab is shown; closing one tab ends
// that connection alone. The tests run in order on one page.

interface Device {
  deviceId: string
  username: string
  deviceKey: string
}

let browser: Browser
let page: Page
let origin: string
let second: Device

const tabs = () => page.getByTestId('session-tab')
const tab = (label: string) => page.locator('.el-tabs__item').filter({ has: page.getByTestId('session-tab').filter({ hasText: label }) })
const counts = () => page.getByTestId('log-counts').innerText()
const log = () => page.getByTestId('message-log').innerText()

/** Subscribes the shown session to a topic and publishes one message to it: two in its log. */
async function roundTrip(topic: string, payload: string): Promise<void> {
  await page.getByTestId('subscribe-topic').fill(topic)
  await page.getByTestId('subscribe').click()
  await page.getByTestId('subscription').filter({ hasText: topic }).waitFor()
  await page.getByTestId('publish-topic').fill(topic)
  await page.getByTestId('publish-payload').fill(payload)
  await page.getByTestId('publish').click()
}

beforeAll(async () => {
  const folder = await temporaryFolder('certdesk-tester-tabs-')
  const dataDir = join(folder, 'data')
  const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
  await cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Tabs Root')
  await brokerOnFreePorts(dataDir)
  const rules = join(folder, 'rules.json')
  await writeFile(rules, JSON.stringify([{ action: 'all', topic: '#', permission: 'allow' }]))
  await cli('broker', 'acl', 'set', '--file', rules)
  await cli('device', 'create', '--name', 'Tab one', '--auth', 'token', '--device-id', 'tab-first')
  second = await cli<Device>('device', 'create', '--name', 'Tab two', '--auth', 'token', '--device-id', 'tab-second')
  const served = await startServe(dataDir)
  browser = await launchChromium()
  page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage()
  origin = await signIn(page, served.url)
})

afterAll(async () => {
  await browser?.close()
})

describe('the tester with several connections', () => {
  it('opens a device session and a manual one side by side, one tab each with its own log', async () => {
    await openScreen(page, origin, '/tester?device=tab-first', 'tester')
    await page.getByTestId('session-connect').click()
    await page.getByTestId('session').waitFor()
    await expect.poll(() => tabs().count()).toBe(1)
    await roundTrip('tabs/one', '{"from": "the first"}')
    await expect.poll(counts, { timeout: 10_000 }).toBe('2 kept, 0 older dropped')

    // A second connection, by hand, while the first stays open.
    await page.getByTestId('tester-mode-manual').click()
    await page.getByTestId('manual-client-id').fill(second.deviceId)
    await page.getByTestId('manual-username').fill(second.username)
    await page.getByTestId('manual-password').fill(second.deviceKey)
    await page.getByTestId('session-connect').click()
    await expect.poll(() => tabs().count()).toBe(2)
    // The new tab is shown, with a log of its own.
    await expect.poll(counts).toBe('0 kept, 0 older dropped')
    await roundTrip('tabs/two', '{"from": "the second"}')
    await expect.poll(counts, { timeout: 10_000 }).toBe('2 kept, 0 older dropped')
    expect(await log()).toContain('tabs/two')
    expect(await log()).not.toContain('tabs/one')
    expect(await tabs().allInnerTexts()).toEqual(['tab-first · Connected', 'tab-second · Connected'])
    await screenshotWhenSettled(page, 'tester-tabs')

    // Back to the first: its log is as it was, and it has kept counting while hidden.
    await tab('tab-first').click()
    await expect.poll(log).toContain('tabs/one')
    expect(await log()).not.toContain('tabs/two')
    expect(await counts()).toBe('2 kept, 0 older dropped')
    // Its forms as they were left, too.
    expect(await page.getByTestId('subscription').allInnerTexts()).toEqual(['tabs/one'])
    expect(await page.getByTestId('publish-topic').inputValue()).toBe('tabs/one')
    expect(await page.getByTestId('session-state').innerText()).toBe('Connected')
  })

  it('closes one connection and leaves the other connected', async () => {
    await tab('tab-first').locator('.is-icon-close').click()
    await expect.poll(() => tabs().allInnerTexts()).toEqual(['tab-second · Connected'])
    expect(await page.getByTestId('session-state').innerText()).toBe('Connected')
    await expect.poll(log).toContain('tabs/two')
    expect(await counts()).toBe('2 kept, 0 older dropped')
    // Still connected and subscribed: another round trip lands in its log.
    await page.getByTestId('publish').click()
    await expect.poll(counts, { timeout: 10_000 }).toBe('4 kept, 0 older dropped')
    // Its Disconnect closes the last tab.
    await page.getByTestId('session-disconnect').click()
    await page.getByTestId('session').waitFor({ state: 'detached' })
    expect(await tabs().count()).toBe(0)
    expect(await page.getByTestId('session-state').innerText()).toBe('Not connected')
  })
})
