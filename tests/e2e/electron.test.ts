import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { _electron as electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../helpers/tools'

const electronDir = join(PROJECT_ROOT, 'node_modules', 'electron')
const pathFile = join(electronDir, 'path.txt')
const binary = existsSync(pathFile) ? join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim()) : undefined
const present = binary !== undefined && existsSync(binary)
if (!present) {
  console.warn(
    'Electron smoke test skipped: the Electron binary is not on this machine (it is fetched by "npm start" where its download server can be reached); the screens are tested in browser mode instead.',
  )
}

describe('the desktop window (Electron)', () => {
  it.skipIf(!present)('opens the real window with the certificates screen', async () => {
    const app = await electron.launch({
      executablePath: binary,
      args: [join(PROJECT_ROOT, 'out/main/index.js'), '--no-sandbox'],
      env: { ...process.env, CERTDESK_HOME: await mkdtemp(join(tmpdir(), 'certdesk-electron-')) },
    })
    const window = await app.firstWindow()
    await window.waitForSelector('[data-test="certificate-table"]')
    // Served from the app's own origin, not file://.
    expect(window.url()).toMatch(/^app:\/\/certdesk\//)
    expect(await window.evaluate(() => typeof (window as unknown as { certdesk?: unknown }).certdesk)).toBe('object')
    // No Node in the page: the sandbox holds.
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined')
    await app.close()
  })
})
