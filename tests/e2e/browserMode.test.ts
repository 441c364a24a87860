import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import mqtt from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { SCREENSHOTS, openScreen, screenshotWhenSettled, signIn, signedInPagePerTest, waitForScreen } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { startMosquitto } from '../helpers/mosquitto'
import { command, freePort, runCertdeskJson, temporaryFolder } from '../helpers/tools'

// One served data folder and one browser for the file; every test makes the records it uses,
// named for it alone, and gets a page of its own (one sign-in, its cookie and session secret
// copied), so any test runs alone or in any order.

interface Device {
  id: string
  deviceId: string
  username: string
  deviceKey: string
}
interface Certificate {
  id: string
  name: string
  enabled: boolean
  boundDeviceIds: string[]
}

const VIEWPORT = { width: 1360, height: 900 }

let folder: string
let dataDir: string
/** A second folder, with a root CA and nothing else, served without a broker: the empty screen. */
let emptyUrl: string
let rootPem: string
let ports: { oneWayPort: number; mutualPort: number }
let browser: Browser
let origin: string
let page: Page

const session = signedInPagePerTest({ viewport: VIEWPORT })

const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const shot = (name: string) => screenshotWhenSettled(page, name)
const open = (route: string, screen: string) => openScreen(page, origin, route, screen)

const tokenDevice = (name: string, deviceId: string) =>
  cli<Device>('device', 'create', '--name', name, '--auth', 'token', '--device-id', deviceId)

/** A device with certificate authentication and a certificate of its own bound to it. */
async function certDevice(name: string, deviceId: string): Promise<{ device: Device; certificate: Certificate }> {
  const device = await cli<Device>('device', 'create', '--name', name, '--auth', 'cert', '--device-id', deviceId)
  const certificate = await cli<Certificate>('cert', 'create', '--name', `${name} certificate`)
  await cli('cert', 'bind', certificate.id, deviceId)
  return { device, certificate }
}

/** From a device's page to the tester, as an operator goes: the tester then has the device's port. */
async function testerFor(device: Device): Promise<void> {
  await open(`/devices/${device.id}`, 'device-detail')
  await page.getByTestId('test-device').click()
  await waitForScreen(page, 'tester')
}

/** Runs the Quick test on the tester as it is filled in and gives the result card's text. */
async function quickTest(): Promise<string> {
  await page.getByTestId('quick-test').click()
  const result = page.getByTestId('quick-test-result')
  await result.waitFor({ timeout: 15_000 })
  return result.innerText()
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-e2e-')
  dataDir = join(folder, 'data')
  const emptyDir = join(folder, 'empty')
  await Promise.all([
    cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Bench Root'),
    runCertdeskJson(['--data', emptyDir, 'ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Empty Root']),
  ])
  ports = await cli('broker', 'settings', '--one-way-port', String(await freePort()), '--mutual-port', String(await freePort()))
  await cli('ca', 'export', '--out', join(folder, 'root_ca.crt'))
  rootPem = await readFile(join(folder, 'root_ca.crt'), 'utf8')
  const [served, empty] = await Promise.all([startServe(dataDir), startServe(emptyDir, { args: ['--no-broker'] })])
  emptyUrl = empty.url
  // The printed URL signs in once; every test's page starts from this browser's cookie and secret.
  await session.signIn(served.url)
  ;({ browser, origin } = session)
})

beforeEach(() => {
  page = session.page
})

describe('browser mode (certdesk serve) in Chromium', () => {
  it('signs in from the printed URL, which leaves the address bar, onto an empty list of certificates', async () => {
    const fresh = await browser.newContext({ viewport: VIEWPORT })
    onTestFinished(() => fresh.close())
    const emptyPage = await fresh.newPage()
    await signIn(emptyPage, emptyUrl)
    // The token has left the address bar.
    expect(emptyPage.url()).not.toContain('token=')
    await waitForScreen(emptyPage, 'certificates')
    expect(await emptyPage.getByTestId('certificate-table').innerText()).toContain('No certificates yet')
    await screenshotWhenSettled(emptyPage, '01-certificates-empty')
  })

  it('creates a certificate and downloads a bundle with the seed layout', async () => {
    await open('/certificates', 'certificates')
    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('Camera fleet')
    await shot('02-create-certificate')
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    await shot('03-certificate-created')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-bundle').click()])
    const zip = join(folder, 'camera-fleet.zip')
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
    await page.getByTestId('certificate-link-Camera fleet').waitFor()
  })

  it('creates devices of both types and binds through Add devices, which offers only certificate devices', async () => {
    const certificate = await cli<Certificate>('cert', 'create', '--name', 'Door cameras')
    await open('/devices', 'devices')
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
      await page.getByTestId(`device-link-${name}`).waitFor()
    }
    await shot('05-devices')

    await page.getByTestId('nav-certificates').click()
    await waitForScreen(page, 'certificates')
    await page.getByTestId('certificate-link-Door cameras').click()
    await waitForScreen(page, 'certificate-detail')
    await page.getByTestId('add-devices').click()
    await page.getByTestId('bind-candidates').waitFor()
    const offered = await page.getByTestId('bind-candidates').innerText()
    expect(offered).toContain('camera-000001')
    expect(offered).not.toContain('meter-000001')
    await shot('06-add-devices')
    await page.getByTestId('bind-candidate-camera-000001').click()
    await page.getByTestId('bind-submit').click()
    await page.getByTestId('bound-devices').getByText('camera-000001').waitFor()
    await shot('07-certificate-detail')
    expect((await cli<Certificate>('cert', 'show', certificate.id)).boundDeviceIds).toEqual(['camera-000001'])
  })

  it('switches availability in the list', async () => {
    const certificate = await cli<Certificate>('cert', 'create', '--name', 'Switched fleet')
    await open('/certificates', 'certificates')
    // Found by name, whatever else the list holds.
    await page.getByTestId('certificate-search').fill('Switched fleet')
    const toggle = page.getByTestId('certificate-switch-Switched fleet')
    // The switch follows the registry, refreshed once the change is saved.
    await toggle.click()
    await page.locator('[data-test="certificate-switch-Switched fleet"]:not(.is-checked)').waitFor()
    expect((await cli<Certificate>('cert', 'show', certificate.id)).enabled).toBe(false)
    await toggle.click()
    await page.locator('[data-test="certificate-switch-Switched fleet"].is-checked').waitFor()
    expect((await cli<Certificate>('cert', 'show', certificate.id)).enabled).toBe(true)
  })

  it('shows the authentication info of a token device, with the key revealed on request', async () => {
    const meter = await tokenDevice('Gauge', 'gauge-000001')
    await open(`/devices/${meter.id}`, 'device-detail')
    expect(await page.getByTestId('auth-device-id').innerText()).toBe('gauge-000001')
    expect(await page.getByTestId('auth-username').innerText()).toBe(meter.username)
    expect(await page.getByTestId('auth-device-key').innerText()).not.toContain(meter.deviceKey)
    // The key comes from the main process only when asked for.
    await page.getByTestId('reveal-key').click()
    await expect.poll(() => page.getByTestId('auth-device-key').innerText()).toBe(meter.deviceKey)
    expect(await page.getByTestId('auth-endpoints').innerText()).toContain(`:${ports.oneWayPort}`)
    expect(await page.getByTestId('example-python-8883').innerText()).toContain(meter.deviceKey)
    await shot('08-device-auth-info')
  })

  it('passes the Quick test from a device page in two clicks, on each port', async () => {
    const meter = await tokenDevice('Quick meter', 'quick-meter-01')
    const { device: camera, certificate } = await certDevice('Quick camera', 'quick-camera-01')
    for (const [device, port] of [
      [meter, ports.oneWayPort],
      [camera, ports.mutualPort],
    ] as const) {
      await testerFor(device) // first click
      expect(await page.getByTestId('tester-port').locator('label.is-checked').innerText()).toContain(String(port))
      expect(await quickTest()).toMatch(/Passed/) // second click
      await shot(`11-tester-pass-${device === meter ? 'meter' : 'camera'}`)
    }
    // And from the certificate's page, with that certificate.
    await open(`/certificates/${certificate.id}`, 'certificate-detail')
    await page.getByTestId('test-quick-camera-01').click()
    await waitForScreen(page, 'tester')
    expect(await quickTest()).toMatch(/Passed/)
  })

  it('passes the Quick test against a real mosquitto configured from Certdesk, for both devices', async () => {
    const meter = await tokenDevice('Mosquitto meter', 'mosq-meter-01')
    const { device: camera } = await certDevice('Mosquitto camera', 'mosq-camera-01')
    const zip = join(folder, 'broker.zip')
    await cli('broker', 'export', '--out', zip, '--force')
    const unpacked = join(folder, 'broker-export')
    await mkdir(unpacked, { recursive: true })
    await command('unzip', ['-oq', zip], unpacked)
    const read = (name: string) => readFile(join(unpacked, 'broker_certs', name), 'utf8')
    const identity = { caPem: await read('root_ca.crt'), certificatePem: await read('server.crt'), privateKeyPem: await read('server.key') }
    const oneWay = await startMosquitto({ ...identity, requireCertificate: false })
    onTestFinished(() => oneWay.stop())
    const mutual = await startMosquitto({ ...identity, requireCertificate: true })
    onTestFinished(() => mutual.stop())
    for (const [device, port] of [
      [meter, oneWay.port],
      [camera, mutual.port],
    ] as const) {
      await testerFor(device)
      await page.getByTestId('tester-host').fill('localhost')
      await page.getByTestId('tester-port-number').locator('input').fill(String(port))
      expect(await quickTest()).toMatch(/Passed/)
    }
    await shot('14-tester-mosquitto')
  })

  it("explains a failed Quick test with the broker's reason", async () => {
    const { device, certificate } = await certDevice('Refused camera', 'refused-camera-01')
    await testerFor(device)
    // Disabled after the tester has it: the broker decides at CONNECT from the folder as it is then.
    await cli('cert', 'update', certificate.id, '--disable')
    expect(await quickTest()).toMatch(/Failed/)
    expect(await page.getByTestId('diagnosis-summary').innerText()).toMatch(/not authorized/)
    expect(await page.getByTestId('diagnosis-broker-reason').innerText()).toBe('certificate is disabled')
    await shot('12-tester-failure')
  })

  it('holds a session: connect, subscribe, publish, see the messages, disconnect', async () => {
    const { device } = await certDevice('Session camera', 'session-camera-01')
    const streams: string[] = []
    page.on('request', (request) => {
      if (request.url().includes('/api/events')) streams.push(request.url())
    })
    await testerFor(device)
    await page.getByTestId('session-connect').click()
    await page.getByTestId('session').waitFor()
    expect(await page.getByTestId('session-state').innerText()).toBe('Connected')
    await page.getByTestId('subscribe').click()
    await page.getByTestId('publish').click()
    // Messages arrive as the broker delivers them: waited for, with a bound.
    await expect.poll(() => page.getByTestId('message-log').innerText(), { timeout: 10_000 }).toMatch(/"hello": "world"/)
    await expect.poll(() => page.getByTestId('log-counts').innerText()).toBe('2 kept, 0 older dropped')
    await shot('13-tester-session')
    await page.getByTestId('session-disconnect').click()
    await page.getByTestId('session').waitFor({ state: 'detached' })
    expect(await page.getByTestId('session-state').innerText()).toBe('Not connected')
    // The app, the broker store and the session all listen: one event stream serves them, so a
    // second tab still has connections left for its calls (a browser allows six per host).
    // (testerFor loads the page afresh: this counts that one page's streams.)
    expect(streams).toHaveLength(1)
  })

  it('fills a manual profile from a bundle zip, passes, and saves it without the key', async () => {
    const { device, certificate } = await certDevice('Manual camera', 'manual-camera-01')
    const zip = join(folder, 'manual-camera.zip')
    await cli('cert', 'export', certificate.id, '--out', zip, '--force')
    await open('/tester', 'tester')
    await page.getByTestId('tester-mode-manual').click()
    await page.getByTestId('bundle-drop').locator('input[type=file]').setInputFiles(zip)
    await page.getByTestId('manual-port').locator('input').fill(String(ports.mutualPort))
    await page.getByTestId('manual-client-id').fill(device.deviceId)
    await page.getByTestId('manual-username').fill(device.deviceId)
    expect(await quickTest()).toMatch(/Passed/)
    await shot('15-tester-manual-bundle')
    await page.getByTestId('save-profile').click()
    await page.locator('.el-message-box input').fill('Camera by hand')
    await page.locator('.el-message-box .el-button--primary').click()
    // This test's profile as the index holds it, once saved.
    const saved = async () => {
      const index = JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8')) as {
        testerProfiles?: Record<string, { name: string }>
      }
      return Object.values(index.testerProfiles ?? {}).find((profile) => profile.name === 'Camera by hand')
    }
    await expect.poll(saved).toBeDefined()
    const profile = JSON.stringify(await saved())
    expect(profile).not.toContain('PRIVATE KEY')
    expect(profile).toContain('BEGIN CERTIFICATE')
  })

  it('shows the authority and the running broker', async () => {
    const meter = await tokenDevice('Counted meter', 'counted-meter-01')
    await open('/authority', 'authority')
    // Running since `serve` started; polled only for a test that opens this right after.
    await expect.poll(() => page.getByTestId('broker-state').innerText()).toBe('Running')
    const ca = await cli<{ fingerprint256: string }>('ca', 'show')
    expect(await page.getByTestId('root-fingerprint').innerText()).toBe(ca.fingerprint256)
    expect(await page.getByTestId('server-names').innerText()).toContain('localhost')
    // A device connecting and leaving shows in the count, pushed by the broker as sessions change.
    const sessions = page.getByTestId('broker-sessions')
    const before = Number(await sessions.innerText())
    const device = await mqtt.connectAsync(`mqtts://localhost:${ports.oneWayPort}`, {
      clientId: meter.deviceId,
      username: meter.username,
      password: meter.deviceKey,
      ca: rootPem,
      reconnectPeriod: 0,
      protocolVersion: 4,
    })
    await expect.poll(() => sessions.innerText()).toBe(String(before + 1))
    await shot('09-authority')
    await device.endAsync()
    await expect.poll(() => sessions.innerText()).toBe(String(before))
  })

  it('switches language to Simplified Chinese and back', async () => {
    await open('/certificates', 'certificates')
    await page.getByTestId('language').click()
    await page.getByText('简体中文').click()
    await expect.poll(() => page.getByTestId('nav-certificates').innerText()).toBe('证书管理')
    await shot('10-certificates-zh')
    await page.getByTestId('language').click()
    await page.getByText('English').click()
    await expect.poll(() => page.getByTestId('nav-certificates').innerText()).toBe('Certificates')
  })

  // The HTTP API's own checks (spent token, cookie or secret alone, Origin, Host, malformed
  // arguments) are tests/serve/server.test.ts's; here only what takes a browser.
  it('keeps the session from page script and the address bar, and the page calls the API with it', async () => {
    const listed = await tokenDevice('Listed meter', 'listed-meter-01')
    await open('/certificates', 'certificates')
    const base = new URL(origin)
    const [session] = await page.context().cookies(base.origin)
    expect(session).toMatchObject({ name: `certdesk_session_${base.port}`, httpOnly: true, sameSite: 'Strict' })
    // Page script cannot read it.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe('')
    // The page keeps the session secret in its own origin's storage, not in its address.
    const secret = await page.evaluate(
      (key) => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem(key),
      `certdesk-session-${base.port}`,
    )
    expect(secret).toMatch(/^[\w-]{43}$/)
    expect(page.url()).not.toContain(secret as string)
    // A call from the page as api.ts makes it: the browser adds the cookie, the page the secret.
    const answer = await page.evaluate(async (sessionSecret) => {
      const response = await fetch('/api/call/listDevices', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Certdesk-Session': sessionSecret },
        body: '{"args":[]}',
      })
      return { status: response.status, body: (await response.json()) as { ok: boolean; value: { deviceId: string }[] } }
    }, secret as string)
    expect(answer.status).toBe(200)
    expect(answer.body.ok).toBe(true)
    expect(answer.body.value.map((device) => device.deviceId)).toContain(listed.deviceId)
  })
})
