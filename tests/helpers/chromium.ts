import { existsSync } from 'node:fs'
import { type Browser, type Page, chromium, selectors } from 'playwright-core'

// No Vitest here: the benches (plain tsx processes) drive Chromium with these too.

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
export async function waitUntilReady(page: Page): Promise<void> {
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
