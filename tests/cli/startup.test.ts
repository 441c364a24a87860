import { spawnSync } from 'node:child_process'
import { copyFile, mkdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliBuildStaleBecause } from '../../bin/cliBuild.mjs'
import { PROJECT_ROOT, runCertdesk, temporaryFolder } from '../helpers/tools'

/**
 * A project (an ES module package, as Certdesk is) beside a copy of bin/: a "built CLI" and a "source CLI" that each say
 * which one ran, and the build's stamp naming the source. The real node_modules (for tsx).
 */
async function miniProject(): Promise<{ root: string; run: (env?: NodeJS.ProcessEnv) => { stdout: string; stderr: string } }> {
  const root = await temporaryFolder('certdesk-startup-')
  await mkdir(join(root, 'bin'))
  for (const file of ['certdesk.mjs', 'cliBuild.mjs']) await copyFile(join(PROJECT_ROOT, 'bin', file), join(root, 'bin', file))
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'))
  await writeFile(join(root, 'package.json'), '{ "type": "module" }\n')
  await mkdir(join(root, 'src-main/cli'), { recursive: true })
  await writeFile(join(root, 'src-main/cli/index.ts'), "const ran: string = 'source'\nprocess.stdout.write(`${ran}\\n`)\n")
  await mkdir(join(root, 'out/main'), { recursive: true })
  await writeFile(join(root, 'out/main/cli.js'), "process.stdout.write('built\\n')\n")
  const builtAt = Date.now()
  await writeFile(join(root, 'out/main/cli.stamp.json'), JSON.stringify({ builtAt, sources: ['src-main/cli/index.ts'] }))
  // The source as it was when it was built: a second before the build started.
  const before = new Date(builtAt - 1000)
  await utimes(join(root, 'src-main/cli/index.ts'), before, before)
  const run = (env: NodeJS.ProcessEnv = {}) => {
    const result = spawnSync(process.execPath, [join(root, 'bin/certdesk.mjs')], { encoding: 'utf8', env: { ...process.env, ...env } })
    return { stdout: result.stdout, stderr: result.stderr }
  }
  return { root, run }
}

const notice = (reason: string) => `certdesk: running from source (slower start): ${reason}; run "npm run build" to start fast.\n`

describe('bin/certdesk.mjs', () => {
  it('runs the build while it is current, and says nothing', async () => {
    const { run } = await miniProject()
    expect(run()).toEqual({ stdout: 'built\n', stderr: '' })
  })

  it('runs the source, with one line saying why, once a source file is newer than the build', async () => {
    const { root, run } = await miniProject()
    const later = new Date(Date.now() + 5000)
    await utimes(join(root, 'src-main/cli/index.ts'), later, later)
    expect(run()).toEqual({ stdout: 'source\n', stderr: notice('src-main/cli/index.ts changed after the last build') })
    // CERTDESK_FROM_SOURCE=1 runs the source on purpose: no notice.
    expect(run({ CERTDESK_FROM_SOURCE: '1' })).toEqual({ stdout: 'source\n', stderr: '' })
  })

  it('runs the source when there is no build, or the build names a file that is gone', async () => {
    const { root, run } = await miniProject()
    await writeFile(join(root, 'out/main/cli.stamp.json'), JSON.stringify({ builtAt: Date.now(), sources: ['src-main/cli/gone.ts'] }))
    expect(run()).toEqual({ stdout: 'source\n', stderr: notice('the build names src-main/cli/gone.ts, which is gone') })
    await rm(join(root, 'out'), { recursive: true })
    expect(run()).toEqual({ stdout: 'source\n', stderr: notice('the CLI is not built') })
  })
})

describe('the built CLI', () => {
  it('is current when the tests run (their global set-up builds a stale one), and is what runs', async () => {
    expect(cliBuildStaleBecause()).toBeUndefined()
    const help = await runCertdesk(['--help'])
    expect(help).toMatchObject({ code: 0, stderr: '' })
  })

  it('is plain Node: neither it nor a chunk it loads imports Electron, and its stamp names no Electron module', async () => {
    const seen = new Set<string>()
    const pending = [join(PROJECT_ROOT, 'out/main/cli.js')]
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (seen.has(file)) continue
      seen.add(file)
      const code = await readFile(file, 'utf8')
      expect(code, file).not.toMatch(/(from|import\(|require\()\s*["']electron["']/)
      for (const [, chunk] of code.matchAll(/(?:from|import\()\s*["'](\.\.?\/[^"']+)["']/g)) pending.push(join(dirname(file), chunk))
    }
    expect(seen.size).toBeGreaterThan(1)
    const stamp = JSON.parse(await readFile(join(PROJECT_ROOT, 'out/main/cli.stamp.json'), 'utf8')) as { sources: string[] }
    expect(stamp.sources).toContain('src-main/cli/index.ts')
    expect(stamp.sources.filter((source) => source.startsWith('src-main/electron/') || source === 'src-main/index.ts')).toEqual([])
  })
})
