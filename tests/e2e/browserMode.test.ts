import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import mqtt from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCREENSHOTS, launchChromium, screenshotWhenSettled } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { startMosquitto } from '../helpers/mosquitto'
import { command, freePort, runCertdeskJson, temporaryFolder } from '../helpers/tools'


let folder: string
let dataDir: string
let url: string
let browser: Browser
let page: Page

const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const shot = (name: string) => screenshotWhenSettled(page, name)

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-e2e-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Bench Root')
  await cli('broker', 'settings', '--one-way-port', String(await freePort()), '--mutual-port', String(await freePort()))
  url = (await startServe(dataDir)).url
  browser = await launchChromium()
  page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1360, height: 900 } })
})

afterAll(async () => {
  await browser?.close()
})

describe('browser mode (certdesk serve) in Chromium', () => {
  it('creates a certificate and downloads a bundle with the seed layout', async () => {
    await page.goto(url)
    await expect.poll(() => page.getByTestId('certificate-table').innerText()).toContain('No certificates yet')
    // The token has left the address bar.
    expect(page.url()).not.toContain('token=')
    await shot('01-certificates-empty')

    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('Camera fleet')
    await shot('02-create-certificate')
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    await shot('03-certificate-created')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-bundle').click()])
    const zip = join(folder, 'downloaded.zip')
    await download.saveAs(zip)
    // The real name (RFC 5987), through a link that worked once.
    expect(download.suggestedFilename()).toBe('Camera fleet.zip')
    expect(download.url()).toMatch(/\/download\/[\w-]{32}$/)
    expect((await page.request.get(download.url())).status()).toBe(410)
    expect((await command('unzip', ['-Z1', zip])).trim().split('\n')).toEqual([
      'common_certs/common.crt',
      'common_certs/common.key',
      'common_certs/root_ca.crt',
    ])
    await page.keyboard.press('Escape')
    await expect.poll(() => page.getByTestId('certificate-table').innerText()).toContain('Camera fleet')
  })

  it('creates devices of both types and binds through Add devices, which offers only certificate devices', async () => {
    await page.getByTestId('nav-devices').click()
    for (const [name, auth, id] of [
      ['Meter', 'token', 'meter-000001'],
      ['Camera', 'cert', 'camera-000001'],
    ]) {
      await page.getByTestId('create-device').click()
      await page.getByTestId('device-name').fill(name)
      await page.getByTestId(`device-auth-${auth}`).click()
      await page.getByTestId('device-id').fill(id)
      if (name === 'Camera') await shot('04-create-device')
      await page.getByTestId('device-submit').click()
      await expect.poll(() => page.getByTestId('device-table').innerText()).toContain(id)
    }
    await shot('05-devices')

    await page.getByTestId('nav-certificates').click()
    await page.getByTestId('certificate-link-Camera fleet').click()
    await page.getByTestId('certificate-detail').waitFor()
    await page.getByTestId('add-devices').click()
    await page.getByTestId('bind-candidates').waitFor()
    const offered = await page.getByTestId('bind-candidates').innerText()
    expect(offered).toContain('camera-000001')
    expect(offered).not.toContain('meter-000001')
    await shot('06-add-devices')
    await page.getByTestId('bind-candidate-camera-000001').click()
    await page.getByTestId('bind-submit').click()
    await expect.poll(() => page.getByTestId('bound-devices').innerText()).toContain('camera-000001')
    await shot('07-certificate-detail')
    const [certificate] = await cli<{ boundDeviceIds: string[] }[]>('cert', 'list')
    expect(certificate.boundDeviceIds).toEqual(['camera-000001'])
  })

  it('switches availability in the list', async () => {
    await page.getByTestId('nav-certificates').click()
    await page.getByTestId('certificate-switch-Camera fleet').click()
    await expect.poll(async () => (await cli<{ enabled: boolean }[]>('cert', 'list'))[0].enabled).toBe(false)
    await page.getByTestId('certificate-switch-Camera fleet').click()
    await expect.poll(async () => (await cli<{ enabled: boolean }[]>('cert', 'list'))[0].enabled).toBe(true)
  })

  it('shows the authentication info of a token device, with the key revealed on request', async () => {
    const meter = await cli<{ id: string; deviceKey: string; username: string }>('device', 'show', 'meter-000001')
    await page.getByTestId('nav-devices').click()
    await page.getByTestId('device-link-Meter').click()
    await page.getByTestId('auth-info').waitFor()
    expect(await page.getByTestId('auth-device-id').innerText()).toBe('meter-000001')
    expect(await page.getByTestId('auth-username').innerText()).toBe(meter.username)
    expect(await page.getByTestId('auth-device-key').innerText()).not.toContain(meter.deviceKey)
    // The key comes from the main process only when asked for.
    await page.getByTestId('reveal-key').click()
    await expect.poll(() => page.getByTestId('auth-device-key').innerText()).toBe(meter.deviceKey)
    const settings = await cli<{ oneWayPort: number; mutualPort: number }>('broker', 'settings')
    expect(await page.getByTestId('auth-endpoints').innerText()).toContain(`:${settings.oneWayPort}`)
    expect(await page.getByTestId('example-python-8883').innerText()).toContain(meter.deviceKey)
    await shot('08-device-auth-info')
  })

  it('passes the Quick test from a device page in two clicks, on each port', async () => {
    for (const [name, port] of [
      ['Meter', 'oneWay'],
      ['Camera', 'mutual'],
    ] as const) {
      await page.getByTestId('nav-devices').click()
      await page.getByTestId(`device-link-${name}`).click()
      await page.getByTestId('test-device').click() // first click
      await page.getByTestId('quick-test').click() // second click
      await expect.poll(() => page.getByTestId('quick-test-result').innerText(), { timeout: 15_000 }).toMatch(/Passed/)
      const settings = await cli<{ oneWayPort: number; mutualPort: number }>('broker', 'settings')
      expect(await page.getByTestId('tester-port').locator('label.is-checked').innerText()).toContain(String(port === 'oneWay' ? settings.oneWayPort : settings.mutualPort))
      await shot(`11-tester-pass-${name.toLowerCase()}`)
    }
    // And from the certificate's page, with that certificate.
    await page.getByTestId('nav-certificates').click()
    await page.getByTestId('certificate-link-Camera fleet').click()
    await page.getByTestId('test-camera-000001').click()
    await page.getByTestId('quick-test').click()
    await expect.poll(() => page.getByTestId('quick-test-result').innerText(), { timeout: 15_000 }).toMatch(/Passed/)
  })

  it('passes the Quick test against a real mosquitto configured from Certdesk, for both devices', async () => {
    const zip = join(folder, 'broker.zip')
    await cli('broker', 'export', '--out', zip)
    const unpacked = join(folder, 'broker-export')
    await mkdir(unpacked, { recursive: true })
    await command('unzip', ['-oq', zip], unpacked)
    const read = (name: string) => readFile(join(unpacked, 'broker_certs', name), 'utf8')
    const identity = { caPem: await read('root_ca.crt'), certificatePem: await read('server.crt'), privateKeyPem: await read('server.key') }
    const oneWay = await startMosquitto({ ...identity, requireCertificate: false })
    const mutual = await startMosquitto({ ...identity, requireCertificate: true })
    for (const [name, port] of [
      ['Meter', oneWay.port],
      ['Camera', mutual.port],
    ] as const) {
      await page.getByTestId('nav-devices').click()
      await page.getByTestId(`device-link-${name}`).click()
      await page.getByTestId('test-device').click()
      await page.getByTestId('tester-host').fill('localhost')
      await page.getByTestId('tester-port-number').locator('input').fill(String(port))
      await page.getByTestId('quick-test').click()
      await expect.poll(() => page.getByTestId('quick-test-result').innerText(), { timeout: 15_000 }).toMatch(/Passed/)
    }
    await shot('14-tester-mosquitto')
  })

  it("explains a failed Quick test with the broker's reason", async () => {
    // Back to Certdesk's own broker, on the device's own port.
    await page.getByTestId('nav-devices').click()
    await page.getByTestId('device-link-Camera').click()
    await page.getByTestId('test-device').click()
    const [certificate] = await cli<{ id: string }[]>('cert', 'list')
    await cli('cert', 'update', certificate.id, '--disable')
    await page.getByTestId('quick-test').click()
    await expect.poll(() => page.getByTestId('quick-test-result').innerText(), { timeout: 15_000 }).toMatch(/Failed/)
    expect(await page.getByTestId('diagnosis-summary').innerText()).toMatch(/not authorized/)
    expect(await page.getByTestId('diagnosis-broker-reason').innerText()).toBe('certificate is disabled')
    await shot('12-tester-failure')
    await cli('cert', 'update', certificate.id, '--enable')
  })

  it('holds a session: connect, subscribe, publish, see the messages, disconnect', async () => {
    await page.getByTestId('session-connect').click()
    await expect.poll(() => page.getByTestId('session-state').innerText()).toBe('Connected')
    await page.getByTestId('subscribe').click()
    await page.getByTestId('publish').click()
    await expect.poll(() => page.getByTestId('message-log').innerText(), { timeout: 10_000 }).toMatch(/"hello": "world"/)
    await expect.poll(() => page.getByTestId('log-counts').innerText()).toBe('2 kept, 0 older dropped')
    await shot('13-tester-session')
    await page.getByTestId('session-disconnect').click()
    await expect.poll(() => page.getByTestId('session-state').innerText()).toBe('Not connected')
  })

  it('fills a manual profile from a bundle zip, passes, and saves it without the key', async () => {
    await page.getByTestId('tester-mode-manual').click()
    await page.getByTestId('bundle-drop').locator('input[type=file]').setInputFiles(join(folder, 'downloaded.zip'))
    const settings = await cli<{ mutualPort: number }>('broker', 'settings')
    await page.getByTestId('manual-port').locator('input').fill(String(settings.mutualPort))
    await page.getByTestId('manual-client-id').fill('camera-000001')
    await page.getByTestId('manual-username').fill('camera-000001')
    await page.getByTestId('quick-test').click()
    await expect.poll(() => page.getByTestId('quick-test-result').innerText(), { timeout: 15_000 }).toMatch(/Passed/)
    await shot('15-tester-manual-bundle')
    await page.getByTestId('save-profile').click()
    await page.locator('.el-message-box input').fill('Camera by hand')
    await page.locator('.el-message-box .el-button--primary').click()
    await expect.poll(async () => (await readFile(join(dataDir, 'config.json'), 'utf8')).includes('Camera by hand')).toBe(true)
    const index = await readFile(join(dataDir, 'config.json'), 'utf8')
    expect(index).not.toContain('PRIVATE KEY')
    expect(index).toContain('BEGIN CERTIFICATE')
  })

  it('shows the authority and the running broker', async () => {
    await page.getByTestId('nav-authority').click()
    await expect.poll(() => page.getByTestId('broker-state').innerText()).toBe('Running')
    const ca = await cli<{ fingerprint256: string }>('ca', 'show')
    expect(await page.getByTestId('root-fingerprint').innerText()).toBe(ca.fingerprint256)
    expect(await page.getByTestId('server-names').innerText()).toContain('localhost')
    // A device connecting and leaving shows in the count, pushed by the broker as sessions change.
    const meter = await cli<{ deviceId: string; username: string; deviceKey: string }>('device', 'show', 'meter-000001')
    const settings = await cli<{ oneWayPort: number }>('broker', 'settings')
    await cli('ca', 'export', '--out', join(folder, 'authority-root.crt'))
    const device = await mqtt.connectAsync(`mqtts://localhost:${settings.oneWayPort}`, {
      clientId: meter.deviceId, username: meter.username, password: meter.deviceKey,
      ca: await readFile(join(folder, 'authority-root.crt')), reconnectPeriod: 0, protocolVersion: 4,
    })
    await expect.poll(() => page.getByTestId('broker-sessions').innerText()).toBe('1')
    await shot('09-authority')
    await device.endAsync()
    await expect.poll(() => page.getByTestId('broker-sessions').innerText()).toBe('0')
  })

  it('switches language to Simplified Chinese and back', async () => {
    await page.getByTestId('language').click()
    await page.getByText('简体中文').click()
    await expect.poll(() => page.getByTestId('nav-certificates').innerText()).toBe('证书管理')
    await page.getByTestId('nav-certificates').click()
    await shot('10-certificates-zh')
    await page.getByTestId('language').click()
    await page.getByText('English').click()
    await expect.poll(() => page.getByTestId('nav-certificates').innerText()).toBe('Certificates')
  })

  // The HTTP API's own checks (spent token, cookie or secret alone, Origin, Host, malformed
  // arguments) are tests/serve/server.test.ts's; here only what takes a browser.
  it('keeps the session from page script and the address bar, and the page calls the API with it', async () => {
    const base = new URL(url)
    const [session] = await page.context().cookies(base.origin)
    expect(session).toMatchObject({ name: `certdesk_session_${base.port}`, httpOnly: true, sameSite: 'Strict' })
    // Page script cannot read it.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe('')
    // The page keeps the session secret in its own origin's storage, not in its address.
    const secret = await page.evaluate((key) => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem(key), `certdesk-session-${base.port}`)
    expect(secret).toMatch(/^[\w-]{43}$/)
    expect(page.url()).not.toContain(secret as string)
    // A call from the page as api.ts makes it: the browser adds the cookie, the page the secret.
    const listed = await page.evaluate(async (sessionSecret) => {
      const response = await fetch('/api/call/listDevices', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Certdesk-Session': sessionSecret },
        body: '{"args":[]}',
      })
      return { status: response.status, body: (await response.json()) as { ok: boolean; value: unknown[] } }
    }, secret as string)
    expect(listed.status).toBe(200)
    expect(listed.body.ok).toBe(true)
    expect(listed.body.value).toHaveLength(2)
  })
})
