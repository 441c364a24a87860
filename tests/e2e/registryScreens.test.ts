import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Locator, Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { Workspace } from '../../src-main/core/workspace'
import { SCREENSHOTS, openScreen, screenshotWhenSettled, signIn, signedInPagePerTest, waitForScreen } from '../helpers/browser'
import { brokerOnFreePorts, startServe } from '../helpers/serve'
import { command, runCertdeskJson, temporaryFolder } from '../helpers/tools'

// The certificate and device screens as a new operator meets them (issue 10, §3–§5): one served
// folder and one browser for the file, every test making the records it uses under names of its
// own, on a page of its own, so any test runs alone or in any order. The first-run screen has
// folders (and `serve`s) of its own.

interface Device {
  id: string
  name: string
  deviceId: string
  username: string
  authType: 'token' | 'cert'
  deviceKey: string
  certificateIds: string[]
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
let ports: { oneWayPort: number; mutualPort: number }
let browser: Browser
let origin: string
let page: Page

const session = signedInPagePerTest({ viewport: VIEWPORT })

const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const open = (route: string, screen: string) => openScreen(page, origin, route, screen)
const certificate = (name: string, ...options: string[]) => cli<Certificate>('cert', 'create', '--name', name, ...options)
const device = (name: string, auth: 'token' | 'cert', deviceId: string) =>
  cli<Device>('device', 'create', '--name', name, '--auth', auth, '--device-id', deviceId)

/** The error Element Plus shows under the form item that holds `field`. */
const fieldError = (field: string) => page.locator(`.el-form-item:has([data-test="${field}"]) .el-form-item__error`)

/** Picks an option of an Element Plus select by the option's data-test. */
async function choose(select: string, option: string): Promise<void> {
  await page.getByTestId(select).click()
  await page.getByTestId(option).click()
  // The list closes (and fades out) before the next step or screenshot.
  await expect.poll(() => page.locator('.el-select__popper:visible').count()).toBe(0)
}

/** The names of the certificate rows on the page, in the order shown. */
const certificateNames = () => page.locator('[data-test="certificate-table"] [data-test^="certificate-link-"]').allInnerTexts()
const deviceIds = () => page.locator('[data-test="device-table"] .device-id').allInnerTexts()

/**
 * Labels (column headers, description and form labels) that break over two lines or do not fit:
 * measured in the page, from the line boxes their text lays out in.
 */
function brokenLabels(labels: Locator): Promise<string[]> {
  interface Rect {
    top: number
  }
  interface Measured {
    textContent: string | null
    scrollWidth: number
    clientWidth: number
    ownerDocument: { createRange(): { selectNodeContents(node: unknown): void; getClientRects(): ArrayLike<Rect> } }
  }
  return labels.evaluateAll((nodes) =>
    (nodes as unknown as Measured[])
      .filter((node) => {
        const range = node.ownerDocument.createRange()
        range.selectNodeContents(node)
        const tops: number[] = []
        for (const rect of Array.from(range.getClientRects())) if (!tops.some((top) => Math.abs(top - rect.top) < 4)) tops.push(rect.top)
        return tops.length > 1 || node.scrollWidth > node.clientWidth + 1
      })
      .map((node) => (node.textContent ?? '').trim()),
  )
}

/** Counts the page's calls to each operation from now on. */
function countCalls(target: Page): Map<string, number> {
  const counts = new Map<string, number>()
  target.on('request', (request) => {
    const operation = /\/api\/call\/(\w+)$/.exec(request.url())?.[1]
    if (operation) counts.set(operation, (counts.get(operation) ?? 0) + 1)
  })
  return counts
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-registry-screens-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Screens Root')
  ports = await brokerOnFreePorts(dataDir)
  // No broker: these screens read its settings (the ports), they do not need it running.
  const served = await startServe(dataDir, { args: ['--no-broker'] })
  await session.signIn(served.url)
  ;({ browser, origin } = session)
})

beforeEach(() => {
  page = session.page
})

describe('creating and downloading (§3)', () => {
  it('offers the bundle right after "Create device" made a certificate for it, under the certificate’s name', async () => {
    await open('/devices', 'devices')
    await page.getByTestId('create-device').click()
    await page.getByTestId('device-name').fill('Kiln')
    await page.getByTestId('device-auth-cert').click()
    await page.getByTestId('device-id').fill('kiln-000001')
    await page.getByTestId('device-new-certificate').fill('Kiln certificate')
    await page.getByTestId('device-submit').click()
    await page.getByTestId('device-created').waitFor()
    await screenshotWhenSettled(page, 'registry-01-device-created-bundle')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('device-download-bundle').click()])
    expect(download.suggestedFilename()).toBe('Kiln certificate.zip')
    const zip = join(folder, 'kiln.zip')
    await download.saveAs(zip)
    expect((await command('unzip', ['-Z1', zip])).trim().split('\n')).toEqual([
      'common_certs/common.crt',
      'common_certs/common.key',
      'common_certs/root_ca.crt',
    ])
    const created = await cli<Device>('device', 'show', 'kiln-000001')
    expect(created.certificateIds).toHaveLength(1)
    expect((await cli<Certificate>('cert', 'show', created.certificateIds[0])).name).toBe('Kiln certificate')
  })

  it('downloads a certificate with a Chinese name under that name (RFC 6266 filename*)', async () => {
    const meter = await certificate('水表 证书 七号')
    await open(`/certificates/${meter.id}`, 'certificate-detail')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('detail-download-bundle').click()])
    expect(download.suggestedFilename()).toBe('水表 证书 七号.zip')
  })

  it('submits the create dialogs with Enter', async () => {
    await open('/certificates', 'certificates')
    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('Entered certificate')
    await page.getByTestId('certificate-name').press('Enter')
    await page.getByTestId('certificate-created').waitFor()

    await open('/devices', 'devices')
    await page.getByTestId('create-device').click()
    await page.getByTestId('device-name').fill('Entered device')
    await page.getByTestId('device-id').fill('entered-000001')
    await page.getByTestId('device-id').press('Enter')
    await page.getByTestId('device-link-Entered device').waitFor()
    expect((await cli<Device>('device', 'show', 'entered-000001')).name).toBe('Entered device')
  })

  it('refuses names with control or text-direction characters beside the field, and creates nothing', async () => {
    await open('/certificates', 'certificates')
    await page.getByTestId('create-certificate').click()
    // U+202E would make "invoice‮gnp.exe" read as "invoiceexe.png".
    await page.getByTestId('certificate-name').fill('invoice\u202egnp.exe')
    await page.getByTestId('certificate-submit').click()
    await expect.poll(() => fieldError('certificate-name').innerText()).toMatch(/control or text-direction characters/)
    // The dialog stays, with the name as typed.
    expect(await page.getByTestId('certificate-name').inputValue()).toBe('invoice\u202egnp.exe')
    await screenshotWhenSettled(page, 'registry-02-name-refused')
    // A name that is only blank is refused by the form itself.
    await page.getByTestId('certificate-name').fill('   ')
    await page.getByTestId('certificate-submit').click()
    await expect.poll(() => fieldError('certificate-name').innerText()).not.toBe('')
    await page.keyboard.press('Escape')

    await open('/devices', 'devices')
    await page.getByTestId('create-device').click()
    await page.getByTestId('device-name').fill('bell\u0007')
    await page.getByTestId('device-submit').click()
    await expect.poll(() => fieldError('device-name').innerText()).toMatch(/control or text-direction characters/)
    // A device ID the core would refuse is named beside its own field.
    await page.getByTestId('device-name').fill('Fine name')
    await page.getByTestId('device-id').fill('short')
    await page.getByTestId('device-submit').click()
    await expect.poll(() => fieldError('device-id').innerText()).not.toBe('')

    const names = [...(await cli<Certificate[]>('cert', 'list')), ...(await cli<Device[]>('device', 'list'))].map((item) => item.name)
    expect(names.filter((name) => /gnp\.exe|bell|Fine name/.test(name))).toEqual([])
  })
})

describe('not found (§3)', () => {
  it('says so for an unknown certificate, device or route, with a way back', async () => {
    await open('/certificates/crt_doesnotexist', 'not-found')
    await page.getByTestId('not-found-back').click()
    await waitForScreen(page, 'certificates')

    await open('/devices/dev_doesnotexist', 'not-found')
    await screenshotWhenSettled(page, 'registry-03-not-found')
    await page.getByTestId('not-found-back').click()
    await waitForScreen(page, 'devices')

    await open('/nowhere/at/all', 'not-found')
    await page.getByTestId('not-found-back').click()
    await waitForScreen(page, 'certificates')
  })

  it('says so when the certificate or device is deleted while its page is open', async () => {
    const doomed = await certificate('Doomed certificate')
    await open(`/certificates/${doomed.id}`, 'certificate-detail')
    await cli('cert', 'delete', doomed.id)
    await waitForScreen(page, 'not-found')

    const gone = await device('Doomed device', 'token', 'doomed-000001')
    await open(`/devices/${gone.id}`, 'device-detail')
    await cli('device', 'delete', gone.id)
    await waitForScreen(page, 'not-found')
  })
})

describe('what the screens say (§3)', () => {
  for (const language of ['en', 'zh-CN'] as const) {
    it(`keeps every label on one line (${language})`, async () => {
      await page.context().addInitScript(`localStorage.setItem('certdesk-locale', '${language}')`)
      const { certificate: bound, device: camera } = await (async () => {
        const camera = await device(`Label camera ${language}`, 'cert', `label-cam-${language}`)
        const bound = await certificate(`Label certificate ${language}`)
        await cli('cert', 'bind', bound.id, camera.deviceId)
        return { certificate: bound, device: camera }
      })()
      const labels = () => page.locator('th .cell, .el-descriptions__label, .el-form-item__label')
      for (const [route, screen] of [
        ['/certificates', 'certificates'],
        ['/devices', 'devices'],
        [`/certificates/${bound.id}`, 'certificate-detail'],
        [`/devices/${camera.id}`, 'device-detail'],
      ]) {
        await open(route, screen)
        expect(await brokenLabels(labels()), `${route} in ${language}`).toEqual([])
      }
    })
  }

  it('says "No matches" for a search that finds nothing, not "No certificates yet"', async () => {
    await certificate('Matchable certificate')
    await open('/certificates', 'certificates')
    await page.getByTestId('certificate-search').fill('nothing is called this')
    await expect.poll(() => page.getByTestId('certificate-table').innerText()).toContain('No matches')
    expect(await page.getByTestId('certificate-table').innerText()).not.toContain('No certificates yet')

    await open('/devices', 'devices')
    await page.getByTestId('device-search').fill('nothing is called this')
    await expect.poll(() => page.getByTestId('device-table').innerText()).toContain('No matches')
  })

  it('says a certificate device has no certificate bound rather than leaving the row blank', async () => {
    const lonely = await device('Lonely camera', 'cert', 'lonely-cam-01')
    await open(`/devices/${lonely.id}`, 'device-detail')
    expect(await page.getByTestId('auth-certificates').innerText()).toMatch(/None bound/)
  })
})

describe('availability, editing devices, the device key (§4)', () => {
  it('confirms before disabling a bound certificate, and says what happened', async () => {
    const camera = await device('Confirm camera', 'cert', 'confirm-cam-01')
    const bound = await certificate('Confirm certificate')
    await cli('cert', 'bind', bound.id, camera.deviceId)
    await open('/certificates', 'certificates')
    await page.getByTestId('certificate-search').fill('Confirm certificate')
    const toggle = page.getByTestId('certificate-switch-Confirm certificate')

    await toggle.click()
    const box = page.locator('.el-message-box')
    await box.waitFor()
    expect(await box.innerText()).toContain('confirm-cam-01')
    await screenshotWhenSettled(page, 'registry-04-disable-confirm').catch(() => undefined)
    await box.getByRole('button', { name: 'Cancel' }).click()
    await box.waitFor({ state: 'hidden' })
    expect((await cli<Certificate>('cert', 'show', bound.id)).enabled).toBe(true)
    expect(await toggle.getAttribute('class')).toContain('is-checked')

    await toggle.click()
    await box.getByRole('button', { name: 'Disable' }).click()
    await page.locator('[data-test="certificate-switch-Confirm certificate"]:not(.is-checked)').waitFor()
    await expect.poll(() => page.locator('.el-message--success').innerText()).toMatch(/Confirm certificate.*disabled/)
    expect((await cli<Certificate>('cert', 'show', bound.id)).enabled).toBe(false)

    // On its own page too; enabling again needs no confirmation, and is reported.
    await open(`/certificates/${bound.id}`, 'certificate-detail')
    await page.getByTestId('detail-enabled').click()
    await expect.poll(() => page.locator('.el-message--success').innerText()).toMatch(/enabled/)
    expect((await cli<Certificate>('cert', 'show', bound.id)).enabled).toBe(true)
    await page.getByTestId('detail-enabled').click()
    await box.waitFor()
    await box.getByRole('button', { name: 'Disable' }).click()
    await expect.poll(async () => (await cli<Certificate>('cert', 'show', bound.id)).enabled).toBe(false)
  })

  it('renames a device and changes its authentication type', async () => {
    const pump = await device('Pump', 'token', 'pump-rename-01')
    await open(`/devices/${pump.id}`, 'device-detail')
    await page.getByTestId('detail-device-name').fill('Pump 7 (north)')
    await page.getByTestId('detail-device-auth-cert').click()
    await page.getByTestId('detail-device-save').click()
    // Switching drops its live sessions: asked first.
    const box = page.locator('.el-message-box')
    await box.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(async () => (await cli<Device>('device', 'show', pump.id)).name).toBe('Pump 7 (north)')
    expect((await cli<Device>('device', 'show', pump.id)).authType).toBe('cert')
    await expect.poll(() => page.getByTestId('auth-type').innerText()).toBe('Certificate')
    await expect.poll(() => page.locator('.el-page-header').innerText()).toContain('Pump 7 (north)')

    // Back to token is refused while a certificate is bound, beside the field.
    const bound = await certificate('Pump rename certificate')
    await cli('cert', 'bind', bound.id, pump.deviceId)
    await page.getByTestId('detail-device-auth-token').click()
    await page.getByTestId('detail-device-save').click()
    await box.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => fieldError('detail-device-auth').innerText()).toMatch(/unbind/)
    expect((await cli<Device>('device', 'show', pump.id)).authType).toBe('cert')
  })

  it('keeps the device key out of the example code until it is revealed, and uses the broker’s ports', async () => {
    const meter = await device('Masked meter', 'token', 'masked-meter-01')
    await open(`/devices/${meter.id}`, 'device-detail')
    const example = page.getByTestId('example-python-8883')
    expect(await example.innerText()).not.toContain(meter.deviceKey)
    expect(await example.innerText()).toContain(`PORT = ${ports.oneWayPort}`)
    await page.getByTestId('reveal-key').click()
    await expect.poll(() => example.innerText()).toContain(meter.deviceKey)
    await page.getByTestId('reveal-key').click()
    await expect.poll(() => example.innerText()).not.toContain(meter.deviceKey)
  })
})

describe('sorting, filtering, and where a new item appears (§4)', () => {
  it('sorts and filters the certificates', async () => {
    const camera = await device('Sort camera', 'cert', 'sort-cam-0001')
    for (const name of ['srt b', 'srt a']) await certificate(name)
    await certificate('srt c', '--days', '10', '--disabled')
    const b = (await cli<Certificate[]>('cert', 'list')).find((c) => c.name === 'srt b')!
    await cli('cert', 'bind', b.id, camera.deviceId)
    await open('/certificates', 'certificates')
    await page.getByTestId('certificate-search').fill('srt ')
    // Newest first until the operator sorts.
    await expect.poll(certificateNames).toEqual(['srt c', 'srt a', 'srt b'])
    await page.locator('[data-test="certificate-table"] th.sort-name').click()
    await expect.poll(certificateNames).toEqual(['srt a', 'srt b', 'srt c'])
    await page.locator('[data-test="certificate-table"] th.sort-name').click()
    await expect.poll(certificateNames).toEqual(['srt c', 'srt b', 'srt a'])
    await page.locator('[data-test="certificate-table"] th.sort-expires').click()
    // Soonest expiry first: "srt c" is valid for 10 days, the others for a year.
    await expect.poll(certificateNames).toEqual(['srt c', 'srt b', 'srt a'])
    await page.locator('[data-test="certificate-table"] th.sort-bound').click()
    await expect.poll(async () => (await certificateNames()).at(-1)).toBe('srt b')

    await choose('certificate-filter-availability', 'filter-availability-disabled')
    await expect.poll(certificateNames).toEqual(['srt c'])
    await choose('certificate-filter-availability', 'filter-availability-all')
    await choose('certificate-filter-expiry', 'filter-expiry-expiring')
    await expect.poll(certificateNames).toEqual(['srt c'])
    await choose('certificate-filter-expiry', 'filter-expiry-all')
    await choose('certificate-filter-binding', 'filter-binding-bound')
    await expect.poll(certificateNames).toEqual(['srt b'])
    await screenshotWhenSettled(page, 'registry-05-certificates-filtered')
    await choose('certificate-filter-binding', 'filter-binding-unbound')
    await expect.poll(async () => (await certificateNames()).sort()).toEqual(['srt a', 'srt c'])
  })

  it('sorts and filters the devices', async () => {
    const bound = await certificate('Device sort certificate')
    await device('dsrt meter', 'token', 'dsrt-000002')
    await device('dsrt camera', 'cert', 'dsrt-000001')
    await device('dsrt lonely', 'cert', 'dsrt-000003')
    await cli('cert', 'bind', bound.id, 'dsrt-000001')
    await open('/devices', 'devices')
    await page.getByTestId('device-search').fill('dsrt')
    await expect.poll(deviceIds).toEqual(['dsrt-000003', 'dsrt-000001', 'dsrt-000002'])
    await page.locator('[data-test="device-table"] th.sort-device-id').click()
    await expect.poll(deviceIds).toEqual(['dsrt-000001', 'dsrt-000002', 'dsrt-000003'])
    await choose('device-filter-auth', 'filter-auth-cert')
    await expect.poll(deviceIds).toEqual(['dsrt-000001', 'dsrt-000003'])
    await choose('device-filter-binding', 'filter-binding-unbound')
    await expect.poll(deviceIds).toEqual(['dsrt-000003'])
    await choose('device-filter-auth', 'filter-auth-all')
    await choose('device-filter-binding', 'filter-binding-bound')
    await expect.poll(deviceIds).toEqual(['dsrt-000001'])
  })

  it('shows a new certificate where the operator can see it, however the list is sorted or filtered', async () => {
    // More than a page of certificates, made in one go through the core.
    const workspace = await Workspace.open(dataDir)
    await workspace.issueDeviceCertificates(Array.from({ length: 25 }, (_, n) => ({ name: `bulk ${String(n).padStart(2, '0')}` })))
    await open('/certificates', 'certificates')
    await page.getByTestId('certificate-search').fill('bulk')
    // Sorted by name, a new "zz" certificate belongs on the last page, and the search hides it.
    await page.locator('[data-test="certificate-table"] th.sort-name').click()
    await expect.poll(async () => (await certificateNames())[0]).toBe('bulk 00')
    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('zz newest certificate')
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    await page.getByTestId('certificate-close').click()
    const row = page.locator('[data-test="certificate-table"] tr.is-new')
    await row.waitFor()
    expect(await row.innerText()).toContain('zz newest certificate')
    await expect
      .poll(() => row.evaluate((node) => (node as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top))
      .toBeLessThan(VIEWPORT.height)
    await screenshotWhenSettled(page, 'registry-06-new-certificate')
  })
})

describe('the registry store (§5)', () => {
  it('applies what a change returns instead of reloading every list, and still follows changes made elsewhere', async () => {
    const camera = await device('Store camera', 'cert', 'store-cam-001')
    const store = await certificate('Store certificate')
    await open('/certificates', 'certificates')
    // The CLI's changes above reach the page as events within the server's half-second poll: let
    // them pass first, until the page has asked for no list for a whole second.
    const settling = countCalls(page)
    const lists = () => (settling.get('listCertificates') ?? 0) + (settling.get('listDevices') ?? 0)
    await expect
      .poll(
        async () => {
          const before = lists()
          await new Promise((resolve) => setTimeout(resolve, 1000))
          return lists() === before
        },
        { timeout: 15_000, interval: 0 },
      )
      .toBe(true)
    const calls = countCalls(page)
    await page.getByTestId('certificate-search').fill('Store certificate')
    await page.getByTestId('certificate-switch-Store certificate').click()
    await page.locator('[data-test="certificate-switch-Store certificate"]:not(.is-checked)').waitFor()
    // The main side's registry event (the index changed) may bring one reload; the click none.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(calls.get('updateCertificate')).toBe(1)
    expect(calls.get('listCertificates') ?? 0).toBeLessThanOrEqual(1)

    // Binding on the certificate's page updates the device's side too, without a reload.
    await open(`/certificates/${store.id}`, 'certificate-detail')
    await page.getByTestId('add-devices').click()
    await page.getByTestId('bind-candidate-store-cam-001').click()
    await page.getByTestId('bind-submit').click()
    await page.getByTestId('bound-devices').getByText('store-cam-001').waitFor()
    await page.getByTestId('nav-devices').click()
    await waitForScreen(page, 'devices')
    await page.getByTestId('device-link-Store camera').click()
    await waitForScreen(page, 'device-detail')
    expect(await page.getByTestId('auth-certificates').innerText()).toContain('Store certificate')

    // A change made by the CLI still reaches the open page.
    await cli('device', 'update', camera.id, '--name', 'Store camera (renamed)')
    await expect.poll(() => page.locator('.el-page-header').innerText()).toContain('Store camera (renamed)')
  })
})

describe('first run (§4)', () => {
  it('creates the root CA on an empty folder from the first-run screen, with a passphrase', async () => {
    const fresh = join(folder, 'fresh')
    const served = await startServe(fresh, { args: ['--no-broker'] })
    const firstContext = await browser.newContext({ viewport: VIEWPORT })
    onTestFinished(() => firstContext.close())
    const first = await firstContext.newPage()
    await signIn(first, served.url)
    await first.getByTestId('first-run').waitFor()
    await screenshotWhenSettled(first, 'registry-07-first-run')
    await first.getByTestId('first-run-common-name').fill('Plant 4 Root')
    await first.getByTestId('first-run-key-type').click()
    await first.getByTestId('first-run-key-type-ec-p384').click()
    await first.getByTestId('first-run-days').locator('input').fill('1825')
    // A passphrase that is too short, or repeated wrong, is named beside its field.
    await first.getByTestId('first-run-passphrase').fill('short')
    await first.getByTestId('first-run-submit').click()
    await expect
      .poll(() => first.locator('.el-form-item:has([data-test="first-run-passphrase"]) .el-form-item__error').innerText())
      .not.toBe('')
    await first.getByTestId('first-run-passphrase').fill('plant four passphrase')
    await first.getByTestId('first-run-passphrase-repeat').fill('plant four passphrase?')
    await first.getByTestId('first-run-submit').click()
    await expect
      .poll(() => first.locator('.el-form-item:has([data-test="first-run-passphrase-repeat"]) .el-form-item__error').innerText())
      .not.toBe('')
    await first.getByTestId('first-run-passphrase-repeat').fill('plant four passphrase')
    await first.getByTestId('first-run-submit').click()
    await waitForScreen(first, 'certificates')

    const ca = await runCertdeskJson<{ commonName: string; keyType: string; keyProtection: string; notBefore: string; notAfter: string }>(
      ['--data', fresh, '--passphrase-env', 'CD_PASS', 'ca', 'show'],
      { CD_PASS: 'plant four passphrase' },
    )
    expect(ca).toMatchObject({ commonName: 'Plant 4 Root', keyType: 'ec-p384', keyProtection: 'passphrase' })
    expect(Math.round((Date.parse(ca.notAfter) - Date.parse(ca.notBefore)) / 86_400_000)).toBe(1825)
    // The keys are open in this session: a certificate can be issued right away.
    await first.getByTestId('create-certificate').click()
    await first.getByTestId('certificate-name').fill('First certificate')
    await first.getByTestId('certificate-submit').click()
    await first.getByTestId('certificate-created').waitFor()
  })

  it('creates the root CA with the defaults in one click; the folder is then an ordinary one', async () => {
    const fresh = join(await temporaryFolder('certdesk-first-run-'), 'data')
    const served = await startServe(fresh, { args: ['--no-broker'] })
    const firstContext = await browser.newContext({ viewport: VIEWPORT })
    onTestFinished(() => firstContext.close())
    const first = await firstContext.newPage()
    await signIn(first, served.url)
    await first.getByTestId('first-run').waitFor()
    await first.getByTestId('first-run-common-name').press('Enter')
    await waitForScreen(first, 'certificates')
    const ca = await runCertdeskJson<{ commonName: string; keyType: string; keyProtection: string }>(['--data', fresh, 'ca', 'show'])
    expect(ca).toEqual(expect.objectContaining({ commonName: 'Certdesk Root CA', keyType: 'rsa2048', keyProtection: 'keyfile' }))
    const audit = await runCertdeskJson<{ actor: string; action: string }[]>(['--data', fresh, 'audit'])
    expect(audit[0]).toMatchObject({ actor: 'browser', action: 'ca.init' })
  })
})
