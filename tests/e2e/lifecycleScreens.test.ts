import { execFile } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { SCREENSHOTS, openScreen, screenshotWhenSettled, signIn, signedInPagePerTest, waitForScreen } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { openssl, runCertdeskJson, temporaryFolder } from '../helpers/tools'
import { editStoredRecord } from '../helpers/storedRegistry'

// Issue 11's screens in browser mode: status badges, revoking, the export menu, the CRL and its
// distribution point on Authority, and the expiry summary and notice. One served folder for the
// file, every test making the records it uses; the expiry summary has a folder of its own, whose
// counts it controls.

const execFileAsync = promisify(execFile)

interface Certificate {
  id: string
  name: string
  cn: string
  serial: string
}

const VIEWPORT = { width: 1360, height: 900 }
const session = signedInPagePerTest({ viewport: VIEWPORT })

let folder: string
let dataDir: string
let rootPath: string
let origin: string
let page: Page

const cli = <T>(...args: string[]) => runCertdeskJson<T>(['--data', dataDir, ...args])
const certificate = (name: string, ...options: string[]) => cli<Certificate>('cert', 'create', '--name', name, ...options)
const open = (route: string, screen: string) => openScreen(page, origin, route, screen)

/** Clicks what starts a download and saves the file under `name` in the test folder. */
async function download(start: () => Promise<unknown>, name: string): Promise<{ path: string; suggested: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), start()])
  const path = join(folder, name)
  await file.saveAs(path)
  return { path, suggested: file.suggestedFilename() }
}

/** Picks an entry of the certificate page's export menu. */
async function exportMenu(format: string): Promise<void> {
  await page.getByTestId('detail-export-button').click()
  await page.getByTestId(`export-${format}`).click()
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true })
  folder = await temporaryFolder('certdesk-lifecycle-screens-')
  dataDir = join(folder, 'data')
  await cli('ca', 'init', '--key-type', 'ec-p256', '--common-name', 'Lifecycle Root')
  rootPath = join(folder, 'root_ca.crt')
  await cli('ca', 'export', '--out', rootPath)
  const served = await startServe(dataDir, { args: ['--no-broker'] })
  await session.signIn(served.url)
  origin = session.origin
})

beforeEach(() => {
  page = session.page
})

describe('status badges', () => {
  it('mark each certificate active, disabled, revoked or expiring, on the list and the detail page, and the expiry filter uses the same window', async () => {
    await certificate('badge active')
    await certificate('badge disabled', '--disabled')
    await certificate('badge soon', '--days', '10')
    const revoked = await certificate('badge revoked')
    await cli('cert', 'revoke', revoked.id, '--reason', 'superseded')

    await open('/certificates', 'certificates')
    await page.getByTestId('certificate-search').fill('badge ')
    const badges = (name: string) => page.getByTestId(`certificate-status-${name}`).locator('[data-test^="status-"]').allInnerTexts()
    await page.getByTestId('certificate-status-badge soon').waitFor()
    expect(await badges('badge active')).toEqual(['Active'])
    expect(await badges('badge disabled')).toEqual(['Disabled'])
    expect(await badges('badge soon')).toEqual(['Active', 'Expiring'])
    expect(await badges('badge revoked')).toEqual(['Revoked'])
    // A revoked certificate's switch cannot be turned on.
    await expect.poll(() => page.getByTestId('certificate-switch-badge revoked').getAttribute('class')).toMatch(/is-disabled/)

    await screenshotWhenSettled(page, 'lifecycle-01-badges')
    await page.getByTestId('certificate-filter-expiry').click()
    await page.getByTestId('filter-expiry-expiring').click()
    await expect
      .poll(() => page.locator('[data-test="certificate-table"] [data-test^="certificate-link-"]').allInnerTexts())
      .toEqual(['badge soon'])

    await page.getByTestId('certificate-link-badge soon').click()
    await waitForScreen(page, 'certificate-detail')
    expect(await page.getByTestId('detail-status').locator('[data-test^="status-"]').allInnerTexts()).toEqual(['Active', 'Expiring'])
  })
})

describe('revoking', () => {
  it('asks for a reason and a confirmation, then switches off enabling, binding and the bundle with the reason why', async () => {
    const target = await certificate('revoke me')
    await open(`/certificates/${target.id}`, 'certificate-detail')
    await page.getByTestId('detail-revoke').click()
    await page.getByTestId('revoke-dialog').waitFor()
    await page.getByTestId('revoke-reason').click()
    await page.getByTestId('revoke-reason-keyCompromise').click()
    await page.getByTestId('revoke-submit').click()
    // The confirmation names the certificate and the reason; cancelling changes nothing.
    const box = page.locator('.el-message-box')
    await expect.poll(() => box.innerText()).toContain('Revoke "revoke me" for good (Key compromise)?')
    await box.getByRole('button', { name: 'Cancel' }).click()
    expect((await cli<{ status: string }>('cert', 'show', target.id)).status).toBe('active')

    await page.getByTestId('revoke-submit').click()
    await box.getByRole('button', { name: 'Revoke' }).click()
    await page.getByTestId('detail-revoked-hint').waitFor()
    expect(await page.getByTestId('detail-revoked-hint').innerText()).toMatch(
      /Revoked on .* \(Key compromise\): it cannot be enabled, bound to devices, or exported as a bundle or with its private key\./,
    )
    expect(await page.getByTestId('detail-status').locator('[data-test^="status-"]').allInnerTexts()).toEqual(['Revoked'])
    expect(await page.getByTestId('detail-enabled').getAttribute('class')).toMatch(/is-disabled/)
    expect(await page.getByTestId('detail-download-bundle').isDisabled()).toBe(true)
    expect(await page.getByTestId('add-devices').isDisabled()).toBe(true)
    expect(await page.getByTestId('detail-revoke').count()).toBe(0)
    await screenshotWhenSettled(page, 'lifecycle-02-revoked')
    // The export menu still offers the certificate, not its key.
    await page.getByTestId('detail-export-button').click()
    for (const format of ['zip', 'p12', 'key'])
      expect(await page.getByTestId(`export-${format}`).getAttribute('aria-disabled')).toBe('true')
    expect(await page.getByTestId('export-pem').getAttribute('aria-disabled')).not.toBe('true')

    expect(await cli<{ status: string; revocationReason: string; enabled: boolean }>('cert', 'show', target.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'keyCompromise',
      enabled: false,
    })
  })
})

describe('the export menu', () => {
  it('saves a PKCS#12 that openssl opens with the passphrase, a PEM and an encrypted PKCS#8 key', async () => {
    const target = await certificate('export me')
    await open(`/certificates/${target.id}`, 'certificate-detail')

    await exportMenu('p12')
    await page.getByTestId('export-dialog').waitFor()
    expect(await page.getByTestId('export-submit').isDisabled()).toBe(true)
    await page.getByTestId('export-passphrase').fill('correct horse')
    await page.getByTestId('export-passphrase-repeat').fill('correct horse')
    await page.getByTestId('export-friendly-name').fill('Gateway 7')
    await screenshotWhenSettled(page, 'lifecycle-03-export-p12')
    const p12 = await download(() => page.getByTestId('export-submit').click(), 'export.p12')
    expect(p12.suggested).toBe('export me.p12')
    const info = await openssl(['pkcs12', '-info', '-in', p12.path, '-passin', 'pass:correct horse', '-nokeys'])
    expect(info).toMatch(/friendlyName: Gateway 7/)
    expect(info).toContain(`subject=CN = ${target.cn}`)
    // openssl names the encryption on stderr.
    const details = await execFileAsync('openssl', ['pkcs12', '-info', '-nokeys', '-in', p12.path, '-passin', 'pass:correct horse'])
    expect(details.stderr).toMatch(/PBES2, PBKDF2, AES-256-CBC/)
    await expect(openssl(['pkcs12', '-info', '-in', p12.path, '-passin', 'pass:wrong', '-nokeys'])).rejects.toThrow()

    const pem = await download(() => exportMenu('pem'), 'export.crt')
    expect(pem.suggested).toBe('export me.crt')
    expect(await openssl(['x509', '-in', pem.path, '-noout', '-subject'])).toContain(target.cn)

    await exportMenu('key')
    await page.getByTestId('export-dialog').waitFor()
    await page.getByTestId('export-passphrase').fill('key passphrase')
    await page.getByTestId('export-passphrase-repeat').fill('key passphrase')
    const key = await download(() => page.getByTestId('export-submit').click(), 'export.key')
    expect(await readFile(key.path, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
    await openssl(['pkey', '-in', key.path, '-passin', 'pass:key passphrase', '-noout'])
  })
})

describe('the export menu, with the key', () => {
  it('saves a legacy 3DES PKCS#12, and a plain private key only after an explicit confirmation', async () => {
    const target = await certificate('export legacy')
    await open(`/certificates/${target.id}`, 'certificate-detail')

    await exportMenu('p12')
    await page.getByTestId('export-passphrase').fill('old store pass')
    await page.getByTestId('export-passphrase-repeat').fill('old store typo')
    expect(await page.getByTestId('export-submit').isDisabled()).toBe(true)
    await page.getByTestId('export-passphrase-repeat').fill('old store pass')
    await page.getByTestId('export-legacy').click()
    const p12 = await download(() => page.getByTestId('export-submit').click(), 'legacy.p12')
    const details = await execFileAsync('openssl', [
      'pkcs12',
      '-legacy',
      '-info',
      '-nokeys',
      '-in',
      p12.path,
      '-passin',
      'pass:old store pass',
    ])
    expect(details.stderr).toMatch(/pbeWithSHA1And3-KeyTripleDES-CBC/)
    expect(details.stdout).toMatch(/friendlyName: export legacy/)

    await exportMenu('key')
    await page.getByTestId('export-plain-key').click()
    await page.getByTestId('export-submit').click()
    const box = page.locator('.el-message-box')
    await expect.poll(() => box.innerText()).toContain('Anyone who gets this file can use the private key.')
    await box.getByRole('button', { name: 'Cancel' }).click()
    await page.getByTestId('export-submit').click()
    const plain = await download(() => box.getByRole('button', { name: 'Export unencrypted' }).click(), 'plain.key')
    expect(await readFile(plain.path, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    await openssl(['pkey', '-in', plain.path, '-noout'])
  })
})

describe('the CRL on Authority', () => {
  it('downloads a CRL that openssl verifies against the root, listing a revoked certificate', async () => {
    const gone = await certificate('crl gone')
    await cli('cert', 'revoke', gone.id, '--reason', 'cessationOfOperation')
    await open('/authority', 'authority')
    await page.getByTestId('crl-days').locator('input').fill('14')
    const crl = await download(() => page.getByTestId('download-crl').click(), 'crl.pem')
    expect(crl.suggested).toBe('crl.pem')
    await openssl(['crl', '-in', crl.path, '-CAfile', rootPath, '-verify', '-noout'])
    const text = await openssl(['crl', '-in', crl.path, '-noout', '-text'])
    expect(text).toMatch(new RegExp(`Serial Number: ${gone.serial}[\\s\\S]*Cessation Of Operation`))
    // Next update 14 days after this update.
    const [thisUpdate, nextUpdate] = [/Last Update: (.*)/, /Next Update: (.*)/].map((pattern) => Date.parse(pattern.exec(text)![1]))
    expect(Math.round((nextUpdate - thisUpdate) / 86_400_000)).toBe(14)
  })

  it('sets the CRL distribution point, refusing a URL that is not http(s) in one sentence', async () => {
    await open('/authority', 'authority')
    const input = page.getByTestId('crl-url-input')
    await input.fill('ftp://pki.example.com/root.crl')
    await page.getByTestId('crl-url-save').click()
    await expect
      .poll(() => page.getByTestId('crl-url-error').innerText())
      .toMatch(/^"ftp:\/\/pki\.example\.com\/root\.crl" is not a CRL distribution point; give an http:\/\/ or https:\/\/ URL/)
    const url = 'https://pki.example.com/lifecycle.crl'
    await input.fill(url)
    await page.getByTestId('crl-url-save').click()
    await expect.poll(() => page.getByTestId('crl-url-current').innerText()).toContain(url)
    expect((await cli<{ crlDistributionPoint?: string }>('ca', 'show')).crlDistributionPoint).toBe(url)
    await page.getByTestId('crl-url-clear').click()
    await expect.poll(() => page.getByTestId('crl-url-current').innerText()).toMatch(/^None/)
    expect((await cli<{ crlDistributionPoint?: string }>('ca', 'show')).crlDistributionPoint).toBeUndefined()
  })
})

describe('expiry on Authority and on start', () => {
  it('counts certificates expiring within 30 days and expired, highlights a CA under 90 days, and says so once on start', async () => {
    // A folder of its own, so the counts are known: a CA of 60 days, one certificate expiring, one
    // expired (its end moved into the past in the index, as time would), one revoked (not counted).
    const own = join(await temporaryFolder('certdesk-expiry-screens-'), 'data')
    const run = <T>(...args: string[]) => runCertdeskJson<T>(['--data', own, ...args])
    await run('ca', 'init', '--key-type', 'ec-p256', '--days', '60')
    await run('cert', 'create', '--name', 'soon', '--days', '10')
    await run('cert', 'create', '--name', 'fine', '--days', '50')
    const old = await run<Certificate>('cert', 'create', '--name', 'old', '--days', '20')
    const revoked = await run<Certificate>('cert', 'create', '--name', 'revoked soon', '--days', '5')
    await run('cert', 'revoke', revoked.id)
    editStoredRecord(own, 'certificates', old.id, (record) => (record.notAfter = new Date(Date.now() - 3 * 86_400_000).toISOString()))

    const served = await startServe(own, { args: ['--no-broker'] })
    const context = await session.browser.newContext({ viewport: VIEWPORT })
    onTestFinished(() => context.close())
    const ownPage = await context.newPage()
    const ownOrigin = await signIn(ownPage, served.url)

    const notice = ownPage.locator('.expiry-notice')
    await notice.waitFor()
    expect(await notice.innerText()).toMatch(
      /1 certificate\(s\) expire within 30 days\. 1 certificate\(s\) have expired\. The root CA expires on .*, in 59 days\./,
    )
    expect(await ownPage.locator('.expiry-notice').count()).toBe(1)

    await openScreen(ownPage, ownOrigin, '/authority', 'authority')
    expect(await ownPage.getByTestId('expiring-count').innerText()).toBe('1')
    expect(await ownPage.getByTestId('expired-count').innerText()).toBe('1')
    expect(await ownPage.getByTestId('ca-expiry').innerText()).toMatch(/\(in 59 days\)$/)
    expect(await ownPage.getByTestId('ca-expiry').getAttribute('data-warning')).toBe('true')
    expect(await ownPage.getByTestId('ca-expiry').getAttribute('class')).toMatch(/expiring/)
    await screenshotWhenSettled(ownPage, 'lifecycle-04-authority-expiry')

    await openScreen(ownPage, ownOrigin, '/certificates', 'certificates')
    const badges = (name: string) => ownPage.getByTestId(`certificate-status-${name}`).locator('[data-test^="status-"]').allInnerTexts()
    expect(await badges('old')).toEqual(['Active', 'Expired'])
    expect(await badges('fine')).toEqual(['Active'])
  })
})
