import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, openScreen, screenshotWhenSettled, signIn } from '../helpers/browser'
import { connect } from '../helpers/fleet'
import { brokerOnFreePorts, startServe } from '../helpers/serve'
import { runCertdeskJson, temporaryFolder } from '../helpers/tools'

// The tester's manual form, in Chromium against `certdesk serve` and its broker: a Last Will
// saved with a profile comes back when the profile is loaded again; the profile's password, which
// is never saved, is named as one to enter again; a profile can be deleted (after a confirmation);
// and the will is published by the broker when the session drops (MQTT 3.1.1: aedes has no 5.0).
// The tests run in order on one page.

interface Device {
  deviceId: string
  username: string
  deviceKey: string
}

const WILL_TOPIC = 'status/will-device'
const WILL_PAYLOAD = 'will-device went away'
const PROFILE = 'Will profile'

let browser: Browser
let page: Page
let origin: string
let dataDir: string
let device: Device
let watcher: MqttClient
const wills: { topic: string; payload: string; retain: boolean }[] = []

const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const value = (id: string) => page.getByTestId(id).inputValue()
const isOn = async (id: string) => (await page.getByTestId(id).getAttribute('class'))?.includes('is-checked') ?? false

async function openManual(): Promise<void> {
  await openScreen(page, origin, '/tester', 'tester')
  await page.getByTestId('tester-mode-manual').click()
  await page.getByTestId('manual-host').waitFor()
}

async function chooseProfile(name: string): Promise<void> {
  await page.getByTestId('tester-profiles').click()
  await page.locator('.el-select-dropdown__item:visible').filter({ hasText: name }).click()
}

beforeAll(async () => {
  const folder = await temporaryFolder('certdesk-tester-forms-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Forms Root')
  const ports = await brokerOnFreePorts(dataDir)
  const rules = join(folder, 'rules.json')
  await writeFile(rules, JSON.stringify([{ action: 'all', topic: '#', permission: 'allow' }]))
  await cli('broker', 'acl', 'set', '--file', rules)
  device = await cli<Device>('device', 'create', '--name', 'Will device', '--auth', 'token', '--device-id', 'will-device')
  const watching = await cli<Device>('device', 'create', '--name', 'Will watcher', '--auth', 'token', '--device-id', 'will-watcher')
  await cli('ca', 'export', '--out', join(folder, 'root_ca.crt'))
  const served = await startServe(dataDir)
  browser = await launchChromium()
  page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage()
  origin = await signIn(page, served.url)
  watcher = await connect(ports.oneWayPort, {
    ca: await readFile(join(folder, 'root_ca.crt'), 'utf8'),
    clientId: watching.deviceId,
    username: watching.username,
    password: watching.deviceKey,
  })
  watcher.on('message', (topic, payload, packet) => wills.push({ topic, payload: payload.toString(), retain: packet.retain }))
  await watcher.subscribeAsync(WILL_TOPIC, { qos: 1 })
})

afterAll(async () => {
  await watcher?.endAsync()
  await browser?.close()
})

describe("the tester's manual form", () => {
  it('saves a Last Will with a profile (never the password)', async () => {
    await openManual()
    await page.getByTestId('manual-client-id').fill(device.deviceId)
    await page.getByTestId('manual-username').fill(device.username)
    await page.getByTestId('manual-password').fill(device.deviceKey)
    await page.getByTestId('will-section').locator('.el-collapse-item__header').click()
    await page.getByTestId('will-enabled').click()
    await page.getByTestId('will-topic').fill(WILL_TOPIC)
    await page.getByTestId('will-payload').fill(WILL_PAYLOAD)
    await page.getByTestId('will-qos').locator('label').nth(1).click()
    await page.getByTestId('will-retain').click()
    // MQTT 5's CONNECT properties appear with protocol 5 only.
    expect(await page.getByTestId('manual-session-expiry').count()).toBe(0)
    await page.getByTestId('save-profile').click()
    await page.locator('.el-message-box input').fill(PROFILE)
    await page.locator('.el-message-box .el-button--primary').click()
    await page.locator('.el-message--success').waitFor()
  })

  it('loads the profile back with its will, and names the password to enter again', async () => {
    await openManual()
    expect(await page.getByTestId('reenter-secrets').count()).toBe(0)
    await chooseProfile(PROFILE)
    const notice = page.getByTestId('reenter-secrets')
    await notice.waitFor()
    expect(await notice.innerText()).toContain('Password')
    expect(await value('manual-username')).toBe(device.username)
    expect(await value('manual-password')).toBe('')
    await page.getByTestId('will-section').locator('.el-collapse-item__header').click()
    expect(await isOn('will-enabled')).toBe(true)
    expect(await value('will-topic')).toBe(WILL_TOPIC)
    expect(await value('will-payload')).toBe(WILL_PAYLOAD)
    expect(await page.getByTestId('will-qos').locator('label.is-checked').innerText()).toBe('1')
    expect(await isOn('will-retain')).toBe(true)
    await screenshotWhenSettled(page, 'tester-profile-reenter-secrets')
  })

  it('has the broker publish the will when the session drops, and says why it dropped', async () => {
    await page.getByTestId('manual-password').fill(device.deviceKey)
    await page.getByTestId('session-connect').click()
    await page.getByTestId('session').waitFor()
    expect(wills).toEqual([])
    // A new key for the device: the broker drops its connection, which sent no DISCONNECT.
    await cli('device', 'regenerate-key', device.deviceId)
    await expect.poll(() => wills, { timeout: 15_000 }).toEqual([{ topic: WILL_TOPIC, payload: WILL_PAYLOAD, retain: false }])
    const dropped = page.getByTestId('session-dropped')
    await dropped.waitFor({ timeout: 15_000 })
    // The broker's logged reason, not a bare "the broker closed the connection"; and in Chinese,
    // the sentence and the broker's reason inside it both.
    expect(await dropped.innerText()).toBe("Certdesk's broker closed the connection: wrong device key.")
    expect(await page.getByTestId('session-state').innerText()).toBe('Not connected')
    await page.getByTestId('language').click()
    await page.getByText('简体中文').click()
    await expect.poll(() => dropped.innerText()).toBe('Certdesk 的消息服务器关闭了连接：设备密钥错误。')
    await screenshotWhenSettled(page, 'tester-session-dropped-zh')
    await page.getByTestId('language').click()
    await page.getByText('English').click()
  })

  it('deletes the profile after a confirmation', async () => {
    await page.getByTestId('delete-profile').click()
    const box = page.locator('.el-message-box')
    expect(await box.innerText()).toContain(PROFILE)
    // Cancelled: it stays.
    await box.locator('.el-button:not(.el-button--primary)').click()
    await box.waitFor({ state: 'hidden' })
    await openManual()
    await chooseProfile(PROFILE)
    await page.getByTestId('delete-profile').click()
    await page.locator('.el-message-box .el-button--primary').click()
    await page.locator('.el-message--success').filter({ hasText: PROFILE }).waitFor()
    expect(await page.getByTestId('reenter-secrets').count()).toBe(0)
    // Gone from the list, and from the store behind it.
    await openManual()
    await page.getByTestId('tester-profiles').click()
    expect(await page.locator('.el-select-dropdown__item:visible').filter({ hasText: PROFILE }).count()).toBe(0)
  })
})
