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
export function chromiumPath(): string {
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

/** A full-page screenshot once no dialog is still fading in or out and no toast covers the page. */
export async function screenshotWhenSettled(page: Page, name: string): Promise<void> {
  await expect.poll(() => page.locator('.el-message').count(), { timeout: 10_000 }).toBe(0)
  // Runs in the page: only the page's own globals exist there.
  const animating = () =>
    page.locator('.el-overlay, .el-overlay-dialog').evaluateAll(
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
