import { existsSync } from 'node:fs'
import { type Browser, chromium, selectors } from 'playwright-core'

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
