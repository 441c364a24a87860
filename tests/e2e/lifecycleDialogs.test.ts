import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { CertificateView } from '../../src-main/contract/types'
import { SCREENSHOTS, openScreen, screenshotWhenSettled, signedInPagePerTest, waitForScreen } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { command, openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'
import { makeDeviceRequest } from '../helpers/externalCa'

// The lifecycle dialogs (issue 11): a profile and a device in the create dialog, a device's own
// request signed from the Certificates screen, and renewal from the certificate page. Each test
// makes its own records.

let folder: string
let dataDir: string
let origin: string
let page: Page

const session = signedInPagePerTest({ viewport: { width: 1360, height: 900 } })
const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const open = (route: string, screen: string) => openScreen(page, origin, route, screen)
const fieldError = (field: string) => page.locator(`.el-form-item:has([data-test="${field}"]) .el-form-item__error`)
const byName = async (name: string) => (await cli<CertificateView[]>('cert', 'list')).find((c) => c.name === name)

/** Picks the option of an Element Plus select whose text contains `text`. */
async function choose(select: string, text: string): Promise<void> {
  await page.getByTestId(select).click()
  await page.locator('.el-select__popper:visible .el-select-dropdown__item', { hasText: text }).click()
  await expect.poll(() => page.locator('.el-select__popper:visible').count()).toBe(0)
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-lifecycle-screens-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256')
  await writeFile(join(folder, 'root_ca.crt'), (await runCertdesk(['--data', dataDir, 'ca', 'export', '--out', '-'])).stdout)
  const served = await startServe(dataDir, { args: ['--no-broker'] })
  await session.signIn(served.url)
  origin = session.origin
})

beforeEach(() => {
  page = session.page
})

describe('the create dialog', () => {
  it('issues with a profile, asks for the device when the profile names it, and binds the certificate to it', async () => {
    await cli('profile', 'create', 'by-device', '--common-name', 'deviceId', '--organization', 'Screens Inc')
    await cli('device', 'create', '--name', 'Boiler', '--auth', 'cert', '--device-id', 'boiler-000001')
    await open('/certificates', 'certificates')
    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('Boiler certificate')
    await choose('certificate-profile', 'by-device')
    await page.getByTestId('certificate-submit').click()
    await expect
      .poll(() => fieldError('certificate-device').innerText())
      .toBe('Profile "by-device" puts the device ID in the certificate; name the device it is for.')
    expect(await byName('Boiler certificate')).toBeUndefined()
    await choose('certificate-device', 'boiler-000001')
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    expect(await byName('Boiler certificate')).toMatchObject({
      cn: 'boiler-000001',
      profile: 'by-device',
      boundDeviceIds: ['boiler-000001'],
    })
  })
})

describe('signing a request from the Certificates screen', () => {
  it('takes a dropped .csr, signs it, and offers a bundle without a key; a tampered one is refused beside the field', async () => {
    const csr = join(folder, 'meter.csr')
    await makeDeviceRequest(join(folder, 'meter.key'), csr, ['-subj', '/CN=meter-says-this'])
    const tampered = join(folder, 'tampered.csr')
    const der = Buffer.from((await readFile(csr, 'utf8')).replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
    der[der.indexOf(Buffer.from('meter-says-this'))] = 'M'.charCodeAt(0)
    await writeFile(tampered, `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`)

    await open('/certificates', 'certificates')
    // Dropped on the screen: the dialog opens to sign it, with the file loaded.
    const dropped = await page.evaluateHandle(
      (text) => {
        // Runs in the page: the page's DataTransfer (the node tsconfig has no DOM types).
        const { DataTransfer: PageDataTransfer } = globalThis as unknown as {
          DataTransfer: new () => { items: { add(file: File): void } }
        }
        const transfer = new PageDataTransfer()
        transfer.items.add(new File([text], 'tampered.csr', { type: 'application/pkcs10' }))
        return transfer
      },
      await readFile(tampered, 'utf8'),
    )
    await page.getByTestId('certificates').dispatchEvent('drop', { dataTransfer: dropped })
    const fileInput = page.locator('[data-test="request-drop"] input[type=file]')
    expect(await page.getByTestId('request-loaded').innerText()).toContain('tampered.csr')
    await page.getByTestId('certificate-name').fill('Meter')
    await page.getByTestId('certificate-submit').click()
    await expect.poll(() => fieldError('request-drop').innerText()).toMatch(/signature does not verify/)
    expect(await byName('Meter')).toBeUndefined()

    await fileInput.setInputFiles(csr)
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    expect(await page.getByTestId('request-asked').innerText()).toContain('CN=meter-says-this')
    await screenshotWhenSettled(page, 'lifecycle-01-request-signed')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-bundle').click()])
    const zip = join(folder, 'meter.zip')
    await download.saveAs(zip)
    expect((await command('unzip', ['-Z1', zip])).trim().split('\n').sort()).toEqual([
      'common_certs/KEY-STAYS-ON-DEVICE.txt',
      'common_certs/common.crt',
      'common_certs/root_ca.crt',
    ])
    await command('unzip', ['-oq', zip, '-d', join(folder, 'meter')])
    expect(await openssl(['verify', '-CAfile', join(folder, 'root_ca.crt'), join(folder, 'meter/common_certs/common.crt')])).toContain('OK')
    expect(await byName('Meter')).toMatchObject({ keyOrigin: 'csr', hasPrivateKey: false })
  })
})

describe('renewing from the certificate page', () => {
  it('renews with the old one revoked as superseded, and opens the successor, which names where it came from', async () => {
    const old = await cli<CertificateView>('cert', 'create', '--name', 'Pump')
    await open(`/certificates/${old.id}`, 'certificate-detail')
    await page.getByTestId('detail-renew').click()
    await page.getByTestId('renew-revoke-old').click()
    await page.getByTestId('renew-submit').click()
    await expect.poll(() => page.url()).not.toContain(old.id)
    await waitForScreen(page, 'certificate-detail')
    expect(await page.getByTestId('detail-renews-from').innerText()).toBe(`Pump (serial ${old.serial.slice(0, 8)})`)
    const renewed = await byName('Pump')
    expect(renewed).toMatchObject({ renewedFrom: old.id, cn: old.cn, status: 'active' })
    expect(page.url()).toContain(renewed!.id)
    expect((await cli<CertificateView>('cert', 'show', old.id)).status).toBe('revoked')
  })
})
