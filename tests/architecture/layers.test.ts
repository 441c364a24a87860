import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../helpers/tools'

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

describe('layers', () => {
  it('the core and the CLI never import electron, so they run in plain Node', () => {
    const offenders = [...sourceFiles(join(PROJECT_ROOT, 'src-main/core')), ...sourceFiles(join(PROJECT_ROOT, 'src-main/cli'))]
      .filter((file) => /from ['"]electron['"]|require\(['"]electron['"]\)/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(PROJECT_ROOT, file))
    expect(offenders).toEqual([])
  })

  it('electron-vite built main, a CommonJS preload for the sandbox, and the renderer with its CSP', () => {
    // `npm test` runs `electron-vite build` before the test runner.
    const out = join(PROJECT_ROOT, 'out')
    expect(existsSync(join(out, 'main/index.js'))).toBe(true)
    const preload = readFileSync(join(out, 'preload/index.cjs'), 'utf8')
    expect(preload).toMatch(/require\(["']electron["']\)/)
    const html = readFileSync(join(out, 'renderer/index.html'), 'utf8')
    expect(html).toMatch(/http-equiv="Content-Security-Policy"[\s\S]*script-src 'self'/)
    const main = readFileSync(join(out, 'main/index.js'), 'utf8')
    expect(main).toMatch(/contextIsolation: true/)
    expect(main).toMatch(/sandbox: true/)
    expect(main).toMatch(/nodeIntegration: false/)
    // The broker runs in a utility process of its own, built as a second main entry.
    expect(main).toMatch(/utilityProcess\.fork\([^)]*brokerProcess\.js/)
    expect(existsSync(join(out, 'main/brokerProcess.js'))).toBe(true)
  })
})
