import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { SCREENSHOTS, launchChromium, openScreen, signIn, waitForScreen } from '../helpers/browser'
import { type ServeOptions, brokerOnFreePorts, startServe } from '../helpers/serve'
import { runCertdeskJson, temporaryFolder } from '../helpers/tools'

const PASSPHRASE = 'operator passphrase 42'

// A folder's key protection is one state of the folder and of the `serve` that opened it: each
// test has a passphrase-protected folder and a `serve` of its own, so either runs alone or first.

interface ProtectedFolder {
  dataDir: string
  url: string
  serveErrors: () => string
}

let browser: Browser
let locked: ProtectedFolder
let unlocked: ProtectedFolder

/** A passphrase-protected folder, served with `options`. */
async function protectedFolder(options: ServeOptions = {}): Promise<ProtectedFolder> {
  const dataDir = join(await temporaryFolder('certdesk-unlock-'), 'data')
  await runCertdeskJson(['--data', dataDir, '--passphrase-env', 'CD_PASS', 'ca', 'init', '--key-type', 'ec-p256'], { CD_PASS: PASSPHRASE })
  await brokerOnFreePorts(dataDir)
  const serve = await startServe(dataDir, options)
  return { dataDir, url: serve.url, serveErrors: serve.stderr }
}

/** A page of its own, signed in to `folder`'s serve, and the server's origin. */
async function pageFor(folder: ProtectedFolder): Promise<{ page: Page; origin: string }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } })
  onTestFinished(() => context.close())
  const page = await context.newPage()
  return { page, origin: await signIn(page, folder.url) }
}

beforeAll(async () => {
  ;[locked, unlocked] = await Promise.all([
    // No --passphrase-env: the page asks for it.
    protectedFolder(),
    // Opened by `serve` itself, as `--passphrase-env` does: the keys are open when the page loads.
    protectedFolder({ args: ['--passphrase-env', 'CD_PASS'], env: { CD_PASS: PASSPHRASE } }),
  ])
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
})

describe('a passphrase-protected folder in the screens', () => {
  it('opens on the unlock screen, refuses a wrong passphrase, and starts the broker once unlocked', async () => {
    expect(locked.serveErrors()).toContain('The broker starts when the keys are unlocked.')
    const { page } = await pageFor(locked)
    // Ready: the page knows the vault is locked.
    await page.getByTestId('unlock-screen').waitFor()
    expect(await page.getByTestId('certificate-table').count()).toBe(0)
    await page.getByTestId('unlock-passphrase').fill('not the passphrase')
    await page.getByTestId('unlock-submit').click()
    await page.getByTestId('unlock-error').waitFor()
    expect(await page.getByTestId('unlock-error').innerText()).toMatch(/passphrase is wrong/)
    await page.screenshot({ path: join(SCREENSHOTS, '18-unlock.png') })
    await page.getByTestId('unlock-passphrase').fill(PASSPHRASE)
    await page.getByTestId('unlock-submit').click()
    await waitForScreen(page, 'certificates')
    // Key operations work now: create a certificate in the page.
    await page.getByTestId('create-certificate').click()
    await page.getByTestId('certificate-name').fill('After unlock')
    await page.getByTestId('certificate-submit').click()
    await page.getByTestId('certificate-created').waitFor()
    expect((await runCertdeskJson<{ name: string }[]>(['--data', locked.dataDir, 'cert', 'list'])).map((c) => c.name)).toEqual([
      'After unlock',
    ])
    await page.keyboard.press('Escape')
    await page.getByTestId('nav-authority').click()
    await waitForScreen(page, 'authority')
    // The broker starts after the unlock, and says so when it has.
    await expect.poll(() => page.getByTestId('broker-state').innerText()).toBe('Running')
  })

  it('changes the key protection from the Authority screen', async () => {
    const { page, origin } = await pageFor(unlocked)
    await openScreen(page, origin, '/authority', 'authority')
    expect(await page.getByTestId('key-protection').innerText()).toBe('Passphrase (scrypt)')
    await page.getByTestId('change-key-protection').click()
    // Browser mode has no OS keychain to offer.
    expect(await page.getByTestId('protection-os-keychain').locator('input').isDisabled()).toBe(true)
    await page.getByTestId('protection-keyfile').click()
    await page.getByTestId('protection-save').click()
    await expect.poll(() => page.getByTestId('key-protection').innerText()).toBe('Key file, readable by its owner only')
    expect(existsSync(join(unlocked.dataDir, 'vault.key'))).toBe(true)
    // The command line needs no passphrase any more.
    const certificate = await runCertdeskJson<{ id: string }>(['--data', unlocked.dataDir, 'cert', 'create', '--name', 'From the shell'])
    expect(certificate.id).toMatch(/^crt_/)
  })
})
