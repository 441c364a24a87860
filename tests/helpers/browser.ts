import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import { launchChromium, signIn, waitForScreen, waitUntilReady } from './chromium'
import { PROJECT_ROOT } from './processes'

export { launchChromium, signIn, waitForScreen } from './chromium'

/** Where the screenshots of every screen go (README: "Screenshots"). */
export const SCREENSHOTS = join(PROJECT_ROOT, 'test-results', 'screenshots')

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

export interface SignedInPages {
  /** The file's browser (for tests that need a context of their own). */
  readonly browser: Browser
  /** The current test's page, in a fresh context that starts signed in. */
  readonly page: Page
  /** The served origin the pages are signed in to. */
  readonly origin: string
  /** Signs in once with the URL `certdesk serve` printed; every later test's page starts from its cookie and secret. */
  signIn(url: string): Promise<void>
}

/**
 * Called at the top level of a test file: one Chromium for the file, and a page of its own for
 * every test in a fresh context carrying one sign-in's cookie and session secret, so any test runs
 * alone or in any order. The file's own beforeAll calls `signIn` with the served URL.
 */
export function signedInPagePerTest(options: { viewport: { width: number; height: number } }): SignedInPages {
  let browser: Browser | undefined
  let state: Awaited<ReturnType<BrowserContext['storageState']>> | undefined
  let origin: string | undefined
  let context: BrowserContext | undefined
  let page: Page | undefined
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`signedInPagePerTest: no ${what} yet`)
    return value
  }
  beforeAll(async () => {
    browser = await launchChromium()
  })
  beforeEach(async () => {
    context = await need(browser, 'browser').newContext({
      storageState: need(state, 'sign-in'),
      acceptDownloads: true,
      viewport: options.viewport,
    })
    page = await context.newPage()
  })
  afterEach(async () => {
    await context?.close()
    context = page = undefined
  })
  afterAll(async () => {
    await browser?.close()
  })
  return {
    get browser() {
      return need(browser, 'browser')
    },
    get page() {
      return need(page, 'page (only inside a test)')
    },
    get origin() {
      return need(origin, 'sign-in')
    },
    async signIn(url) {
      const first = await need(browser, 'browser').newContext()
      origin = await signIn(await first.newPage(), url)
      state = await first.storageState()
      await first.close()
    },
  }
}
