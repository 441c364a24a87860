import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCREENSHOTS, launchChromium } from '../helpers/browser'
import { startServe } from '../helpers/serve'
import { freePort, runCertdeskJson, temporaryFolder } from '../helpers/tools'

const PASSPHRASE = 'operator passphrase 42'

let dataDir: string
let browser: Browser
let page: Page
let url: string
let serveErrors: () => string

beforeAll(async () => {
  dataDir = join(await temporaryFolder('certdesk-unlock-'), 'data')
  await runCertdeskJson(['--data', dataDir, '--passphrase-env', 'CD_PASS', 'ca', 'init', '--key-type', 'ec-p256'], { CD_PASS: PASSPHRASE })
  await runCertdeskJson(['--data', dataDir, 'broker', 'settings', '--one-way-port', String(await freePort()), '--mutual-port', String(await freePort())])
  // No --passphrase-env: the page asks for it.
  const serve = await startServe(dataDir)
  url = serve.url
  serveErrors = serve.stderr
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } })
})

afterAll(async () => {
  await browser?.close()
})

describe('a passphrase-protected folder in the screens', () => {
  it('opens on the unlock screen, refuses a wrong passphrase, and starts the broker once unlocked', async () => {
    expect(serveErrors()).toContain('The broker starts when the keys are unlocked.')
    await page.goto(url)
    await page.getByTestId('unlock-screen').waitFor()
    expect(await page.getByTestId('certificate-table').count()).toBe(0)
    await page.getByTestId('unlock-passphrase').fill('not the passphrase')
    await page.getByTestId('unlock-submit').click()
    await expect.poll(() => page.getByTestId('unlock-error').innerText()).toMatch(/passphrase is wrong/)
    await page.screenshot({ path: join(SCREENSHOTS, '18-unlock.png') })
    await page.getByTestId('unlock-passphrase').fill(PASSPHRASE)
    await page.getByTestId('unlock-submit').click()
    await page.getByTestId('certificate-table').waitFor()
    // Key operations work now: create a certificate in the page.
    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('After unlock')
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    expect((await runCertdeskJson<{ name: string }[]>(['--data', dataDir, 'cert', 'list'])).map((c) => c.name)).toEqual(['After unlock'])
    await page.keyboard.press('Escape')
    await page.getByTestId('nav-authority').click()
    await expect.poll(() => page.getByTestId('broker-state').innerText()).toBe('Running')
  })

  it('changes the key protection from the Authority screen', async () => {
    expect(await page.getByTestId('key-protection').innerText()).toBe('Passphrase (scrypt)')
    await page.getByTestId('change-key-protection').click()
    // Browser mode has no OS keychain to offer.
    expect(await page.getByTestId('protection-os-keychain').locator('input').isDisabled()).toBe(true)
    await page.getByTestId('protection-keyfile').click()
    await page.getByTestId('protection-save').click()
    await expect.poll(() => page.getByTestId('key-protection').innerText()).toBe('Key file, readable by its owner only')
    expect(existsSync(join(dataDir, 'vault.key'))).toBe(true)
    // The command line needs no passphrase any more.
    const certificate = await runCertdeskJson<{ id: string }>(['--data', dataDir, 'cert', 'create', '--name', 'From the shell'])
    expect(certificate.id).toMatch(/^crt_/)
  })
})
