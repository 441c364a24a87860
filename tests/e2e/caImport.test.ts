import { X509Certificate } from 'node:crypto'
import { mkdir, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExternalCa, encryptKey, exportPkcs12, makeIntermediate, makeRoot } from '../helpers/externalCa'
import { SCREENSHOTS, launchChromium, screenshotWhenSettled, signIn, waitForScreen } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { runCertdeskJson, temporaryFolder } from '../helpers/tools'

// Issue 11, "An existing CA" on the first-run screen: an operator brings the CA the fleet already
// trusts, as PEM files or a PKCS#12 file, in Chromium against a real `certdesk serve`.

const VIEWPORT = { width: 1360, height: 900 }

let folder: string
let browser: Browser
let root: ExternalCa
let intermediate: ExternalCa

/** A page signed in to `certdesk serve` on a fresh, empty data folder, on its first-run screen. */
async function firstRunPage(name: string): Promise<{ page: Page; dataDir: string }> {
  const dataDir = join(folder, name)
  const served = await startServe(dataDir, { args: ['--no-broker'] })
  const context = await browser.newContext({ viewport: VIEWPORT })
  const page = await context.newPage()
  await signIn(page, served.url)
  await page.getByTestId('first-run').waitFor()
  await page.getByTestId('first-run-mode-import').click()
  return { page, dataDir }
}

const chooseFile = (page: Page, which: string, path: string) =>
  page.locator(`[data-test="first-run-import-${which}"] input[type="file"]`).setInputFiles(path)

beforeAll(async () => {
  folder = await temporaryFolder('certdesk-e2e-import-')
  root = await makeRoot(folder, 'screen-root', { key: 'ec' })
  intermediate = await makeIntermediate(folder, 'screen-intermediate', root, { key: 'ec' })
  browser = await launchChromium()
  await mkdir(SCREENSHOTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
})

describe('first run: import an existing CA', () => {
  it('refuses a key that does not match, in English and Chinese, then imports PEM files with an encrypted key', async () => {
    const { page, dataDir } = await firstRunPage('pem')
    const other = await makeRoot(folder, 'other-root', { key: 'ec' })
    // Nothing chosen yet: nothing to submit.
    expect(await page.getByTestId('first-run-submit').isDisabled()).toBe(true)
    await chooseFile(page, 'certificate', root.certificate)
    await chooseFile(page, 'key', other.key)
    await expect.poll(() => page.getByTestId('first-run-import-key-name').innerText()).toBe('other-root.key')
    await page.getByTestId('first-run-submit').click()
    const alert = page.getByTestId('first-run-error')
    await expect
      .poll(() => alert.innerText())
      .toBe('The private key does not belong to the certificate "O=Example Fleet, CN=screen-root" (their public keys differ).')
    await screenshotWhenSettled(page, 'first-run-import-refused')
    await page.getByTestId('language').click()
    await page.getByTestId('language-zh').click()
    await expect.poll(() => alert.innerText()).toBe('该私钥不属于证书“O=Example Fleet, CN=screen-root”（两者的公钥不同）。')
    await screenshotWhenSettled(page, 'first-run-import-refused-zh')
    expect(await page.getByTestId('first-run-submit').innerText()).toBe('导入 CA')
    await page.getByTestId('language').click()
    await page.getByTestId('language-en').click()
    // Nothing was written by the refusal.
    expect(await readdir(dataDir).catch(() => [])).not.toContain('config.json')

    const encrypted = await encryptKey(root.key, 'screen key pass')
    await chooseFile(page, 'key', encrypted)
    await page.getByTestId('first-run-submit').click()
    await expect.poll(() => alert.innerText()).toBe("The CA's private key is encrypted; give its passphrase.")
    await page.getByTestId('first-run-import-passphrase').fill('screen key pass')
    await page.getByTestId('first-run-submit').click()
    await waitForScreen(page, 'certificates')

    const ca = await runCertdeskJson<{ fingerprint256: string; keyType: string; subject: string }>(['--data', dataDir, 'ca', 'show'])
    expect(ca).toMatchObject({
      fingerprint256: new X509Certificate(await readFile(root.certificate)).fingerprint256,
      keyType: 'ec-p256',
      subject: 'O=Example Fleet, CN=screen-root',
    })
    const audit = await runCertdeskJson<{ actor: string; action: string }[]>(['--data', dataDir, 'audit'])
    expect(audit[0]).toMatchObject({ actor: 'browser', action: 'ca.import' })
    // The keys are open in this session: a certificate can be issued right away.
    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('Imported CA certificate')
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    await page.context().close()
  })

  it('imports an intermediate CA from a PKCS#12 file, with a vault passphrase', async () => {
    const { page, dataDir } = await firstRunPage('p12')
    const p12 = await exportPkcs12(intermediate, join(folder, 'screen.p12'), 'p12 screen pass', { chain: [root.certificate] })
    await page.getByTestId('first-run-import-pkcs12').click()
    await chooseFile(page, 'pkcs12', p12)
    await page.getByTestId('first-run-import-passphrase').fill('wrong')
    await page.getByTestId('first-run-submit').click()
    await expect.poll(() => page.getByTestId('first-run-error').innerText()).toBe('The passphrase does not open the PKCS#12 file.')
    await page.getByTestId('first-run-import-passphrase').fill('p12 screen pass')
    await page.getByTestId('first-run-passphrase').fill('screen vault pass')
    await page.getByTestId('first-run-passphrase-repeat').fill('screen vault pass')
    await page.getByTestId('first-run-submit').click()
    await waitForScreen(page, 'certificates')
    const ca = await runCertdeskJson<{ subject: string; keyProtection: string }>(
      ['--data', dataDir, '--passphrase-env', 'VAULT', 'ca', 'show'],
      { VAULT: 'screen vault pass' },
    )
    expect(ca).toMatchObject({ subject: 'O=Example Fleet, CN=screen-intermediate', keyProtection: 'passphrase' })
    await page.context().close()
  })
})
