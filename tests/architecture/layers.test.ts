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

  it('the renderer imports nothing from src-main but the contract', () => {
    const renderer = join(PROJECT_ROOT, 'src-renderer/src')
    const offenders = readdirSync(renderer, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.(ts|vue)$/.test(entry.name))
      .flatMap((entry) => {
        const file = join(entry.parentPath, entry.name)
        return [...readFileSync(file, 'utf8').matchAll(/from '([^']*src-main\/[^']*)'/g)]
          .filter(([, path]) => !path.endsWith('src-main/contract/types'))
          .map(([, path]) => `${relative(PROJECT_ROOT, file)} imports ${path}`)
      })
    expect(offenders).toEqual([])
  })

  it("the contract's runtime imports reach no Node module and no package, so the page can load it", () => {
    const reached = runtimeImports(join(PROJECT_ROOT, 'src-main/contract/types.ts'))
    const outside = [...reached].filter((target) => !target.startsWith(PROJECT_ROOT))
    expect(outside).toEqual([])
  })

  it('the core never imports a front door (contract, ipc, serve, cli, electron, the main process)', () => {
    const frontDoors = /from '(?:\.\.\/)+(contract|ipc|serve|cli|electron|index|brokerProcess|preload)(\/|')|from 'electron'/
    const offenders = sourceFiles(join(PROJECT_ROOT, 'src-main/core'))
      .filter((file) => frontDoors.test(readFileSync(file, 'utf8')))
      .map((file) => relative(PROJECT_ROOT, file))
    expect(offenders).toEqual([])
  })
})

/**
 * Every module a file loads at run time, transitively: `import type` and `export type` are erased
 * and do not count. Relative imports resolve to their `.ts` file; anything else (`node:fs`, a
 * package) is returned as written.
 */
function runtimeImports(file: string, seen = new Set<string>()): Set<string> {
  const source = readFileSync(file, 'utf8')
  // The middle may span lines (multi-line braces) but never into the next statement.
  const statements = source.matchAll(/^(import|export)\s+(type\s+)?(?:(?!\n(?:import|export)\b)[^'"])*?from\s+'([^']+)'/gm)
  for (const [, , typeOnly, target] of statements) {
    if (typeOnly) continue
    const resolved = target.startsWith('.') ? join(file, '..', `${target}.ts`) : target
    if (seen.has(resolved)) continue
    seen.add(resolved)
    if (resolved.endsWith('.ts')) runtimeImports(resolved, seen)
  }
  return seen
}
