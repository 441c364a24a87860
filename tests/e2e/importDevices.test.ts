import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { DeviceView } from '../../src-main/contract/types'
import { SCREENSHOTS, openScreen, screenshotWhenSettled, signedInPagePerTest } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { command, openssl, runCertdeskJson, temporaryFolder } from '../helpers/tools'

// Issue 12: "Import devices" on the Devices screen — choose a CSV, a preview with each line's
// problems, one all-or-nothing run with progress, and the result downloaded (browser mode).

let folder: string
let dataDir: string
let origin: string
let page: Page

const session = signedInPagePerTest({ viewport: { width: 1360, height: 900 } })
const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const open = (route: string, screen: string) => openScreen(page, origin, route, screen)
const deviceIds = async () => new Set((await cli<DeviceView[]>('device', 'list')).map((device) => device.deviceId))

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-import-screen-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256')
  await cli('device', 'create', '--name', 'Already here', '--auth', 'token', '--device-id', 'existing-00001')
  const served = await startServe(dataDir, { args: ['--no-broker'] })
  await session.signIn(served.url)
  origin = session.origin
})

beforeEach(() => {
  page = session.page
})

async function chooseFile(name: string, text: string): Promise<void> {
  const path = join(folder, name)
  await writeFile(path, text)
  await open('/devices', 'devices')
  await page.getByTestId('import-devices').click()
  await page.locator('[data-test="import-drop"] input[type=file]').setInputFiles(path)
}

describe('Import devices', () => {
  it('previews a file with problems, names each line, and writes nothing', async () => {
    const before = await deviceIds()
    const csv = [
      'name,device_id,auth,certificate',
      'Good one,good-device-001,token,',
      'Bad auth,bad-auth-00001,password,',
      'Twice,twice-device-01,cert,',
      'Twice again,twice-device-01,cert,',
      'Exists,existing-00001,token,',
      'Unknown cert,unknown-cert-01,cert,No such certificate',
    ].join('\n')
    await chooseFile('problems.csv', csv)
    const problems = page.getByTestId('import-problems')
    await problems.waitFor()
    const text = await problems.innerText()
    expect(text).toMatch(/Line 3:.*password/)
    expect(text).toMatch(/Line 5:.*twice-device-01/)
    expect(text).toMatch(/Line 7:.*No such certificate/)
    expect(text).not.toMatch(/Line 2:/)
    expect(await page.getByTestId('import-run').isDisabled()).toBe(true)
    await screenshotWhenSettled(page, 'import-01-preview-with-problems')
    expect(await deviceIds()).toEqual(before)
  })

  it('provisions 1,000 devices with progress, downloads bundles and manifest, and a re-run skips them all', async () => {
    const lines = ['name,device_id,username,auth']
    for (let i = 0; i < 1000; i++) {
      const id = `fleet-${String(i).padStart(6, '0')}`
      lines.push(`Fleet ${i},${id},${i % 2 ? `user-${id}` : ''},${i % 2 ? 'token' : 'cert'}`)
    }
    const csv = `${lines.join('\n')}\n`
    await chooseFile('fleet.csv', csv)
    await page.getByTestId('import-preview').waitFor()
    expect(await page.getByTestId('import-counts').innerText()).toContain(
      '1000 rows — 1000 new, 0 to update, 0 already there, 500 certificates',
    )
    const downloaded = page.waitForEvent('download', { timeout: 120_000 })
    await page.getByTestId('import-run').click()
    // The screenshot once certificates are being issued, so the bar shows a run under way.
    await expect.poll(() => page.getByTestId('import-phase').innerText(), { interval: 50 }).toMatch(/Issuing/)
    await page.screenshot({ path: join(SCREENSHOTS, 'import-02-progress.png') })
    await page.getByTestId('import-done').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('import-done').innerText()).toContain('1000 created, 0 updated, 0 skipped, 500 certificates issued')
    const zip = join(folder, 'result.zip')
    await (await downloaded).saveAs(zip)
    expect(await page.getByTestId('import-done').innerText()).toContain(
      'The result (a bundle per certificate device and manifest.csv) was saved.',
    )
    const entries = (await command('unzip', ['-Z1', zip])).trim().split('\n')
    expect(entries).toContain('manifest.csv')
    expect(entries.filter((entry) => entry.endsWith('.zip'))).toHaveLength(500)
    // A sample bundle verifies against its root with openssl.
    await command('unzip', ['-oq', zip, 'fleet-000000.zip', '-d', join(folder, 'result')])
    await command('unzip', ['-oq', join(folder, 'result', 'fleet-000000.zip'), '-d', join(folder, 'result', 'fleet-000000')])
    const bundle = join(folder, 'result', 'fleet-000000', 'common_certs')
    expect(await openssl(['verify', '-CAfile', join(bundle, 'root_ca.crt'), join(bundle, 'common.crt')])).toContain('OK')
    const ids = await deviceIds()
    expect(ids.size).toBe(1001)
    expect(ids.has('fleet-000999')).toBe(true)

    // The same file again: everything exists, nothing to do, nothing duplicated.
    await page.getByTestId('import-close').click()
    await chooseFile('fleet.csv', csv)
    await page.getByTestId('import-preview').waitFor()
    expect(await page.getByTestId('import-counts').innerText()).toContain('0 new, 0 to update, 1000 already there')
    expect(await page.getByTestId('import-run').isDisabled()).toBe(true)
    expect((await deviceIds()).size).toBe(1001)
  })

  it('says the result was not saved when the browser never got its download link', async () => {
    // The one-time link fails as a dropped connection would: the page must not call the zip saved.
    await page.route('**/download/**', (route) => route.abort())
    await chooseFile('unfetched.csv', 'name,device_id,auth\nUnfetched,unfetched-0001,cert\n')
    await page.getByTestId('import-preview').waitFor()
    await page.getByTestId('import-run').click()
    await page.getByTestId('import-done').waitFor({ timeout: 60_000 })
    const done = await page.getByTestId('import-done').innerText()
    expect(done).toContain('1 created')
    expect(done).toContain('The registry is written; the result file was not saved.')
    expect(await page.getByTestId('import-save-again').isVisible()).toBe(true)
    await page.unroute('**/download/**')

    // The server kept the run for the page to ask again: "Save the result…" now downloads it.
    const downloaded = page.waitForEvent('download', { timeout: 30_000 })
    await page.getByTestId('import-save-again').click()
    const zip = join(folder, 'saved-again.zip')
    await (await downloaded).saveAs(zip)
    const entries = (await command('unzip', ['-Z1', zip])).trim().split('\n')
    expect(entries.sort()).toEqual(['manifest.csv', 'unfetched-0001.zip'])
    await expect.poll(() => page.getByTestId('import-done').innerText()).toContain('was saved.')
    expect(await page.getByTestId('import-save-again').count()).toBe(0)
  })

  it('cancels a run under way: nothing is written, and the dialog says so', async () => {
    const before = await deviceIds()
    const lines = ['name,auth']
    for (let i = 0; i < 2000; i++) lines.push(`Cancelled ${i},cert`)
    await chooseFile('cancelled.csv', lines.join('\n'))
    await page.getByTestId('import-preview').waitFor()
    await page.getByTestId('import-run').click()
    await expect.poll(() => page.getByTestId('import-phase').innerText(), { interval: 50 }).toMatch(/Issuing/)
    await page.getByTestId('import-cancel').click()
    await expect.poll(() => page.getByTestId('import-error').innerText()).toMatch(/cancel/i)
    // Back at the preview, the file can be run again; the registry is as it was.
    await page.getByTestId('import-preview').waitFor()
    expect(await deviceIds()).toEqual(before)
  })
})
