import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type Page, chromium, selectors } from 'playwright-core'
import { expect } from 'vitest'
import { PROJECT_ROOT } from './tools'

/** Where the screenshots of every screen go (README: "Screenshots"). */
export const SCREENSHOTS = join(PROJECT_ROOT, 'test-results', 'screenshots')

// The screens mark what tests reach for with data-test attributes.
selectors.setTestIdAttribute('data-test')

/** Debian's Chromium, or the one named by CERTDESK_CHROMIUM (Playwright cannot download its own here). */
function chromiumPath(): string {
  const path = process.env.CERTDESK_CHROMIUM ?? '/usr/bin/chromium'
  if (!existsSync(path)) throw new Error(`No Chromium at ${path}: install Debian's chromium or set CERTDESK_CHROMIUM.`)
  return path
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
    // Playwright gives every launch a fresh, empty profile of its own.
  })
}

/** The app's ready state (App.vue): the vault's state is known and the registry loaded once. */
async function waitUntilReady(page: Page): Promise<void> {
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached' })
}

/** Waits until the screen whose root is marked data-test=`screen` says its data is loaded. */
export async function waitForScreen(page: Page, screen: string): Promise<void> {
  await page.waitForSelector(`[data-test="${screen}"][data-loaded="true"]`)
}

/**
 * Signs a page in with the URL `certdesk serve` printed (its token works once) and waits until
 * the app is ready; returns the server's origin.
 */
export async function signIn(page: Page, url: string): Promise<string> {
  await page.goto(url)
  await waitUntilReady(page)
  return new URL(page.url()).origin
}

/** Loads a route of the app afresh on a signed-in page and waits until its screen has its data. */
export async function openScreen(page: Page, origin: string, route: string, screen: string): Promise<void> {
  // From another document: a change of the hash alone would keep the old page, its registry and
  // its ready mark.
  await page.goto('about:blank')
  await page.goto(`${origin}/#${route}`)
  await waitUntilReady(page)
  await waitForScreen(page, screen)
}

/** A full-page screenshot once no dialog is still fading in or out and no toast covers the page. */
export async function screenshotWhenSettled(page: Page, name: string): Promise<void> {
  await expect.poll(() => page.locator('.el-message').count(), { timeout: 10_000 }).toBe(0)
  // Runs in the page: only the page's own globals exist there.
  const animating = () =>
    page
      .locator('.el-overlay, .el-overlay-dialog')
      .evaluateAll(
        (nodes) =>
          nodes.filter(
            (node) =>
              (globalThis as unknown as { getComputedStyle(n: unknown): { display: string } }).getComputedStyle(node).display !== 'none' &&
              (node as unknown as { getAnimations(): unknown[] }).getAnimations().length > 0,
          ).length,
      )
  await expect.poll(animating).toBe(0)
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}
