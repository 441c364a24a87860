import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll } from 'vitest'
import { PROJECT_ROOT } from './processes'

export { PROJECT_ROOT, freePort, stopChild } from './processes'

const execFileAsync = promisify(execFile)
const CLI = join(PROJECT_ROOT, 'bin/certdesk.mjs')

const cleanups: (() => unknown)[] = []

// Registered when a test file imports this module, so it runs when that file ends: Vitest never
// runs an afterAll registered inside a hook or a test, which is where helpers are mostly called.
afterAll(async () => {
  const pending = cleanups.splice(0).reverse()
  for (const cleanup of pending) await cleanup()
})

/** Runs `cleanup` when the current test file ends, wherever it is called from (last added, first run). */
export function whenFileEnds(cleanup: () => unknown): void {
  cleanups.push(cleanup)
}

/** A fresh temporary folder, removed when the test file ends. */
export async function temporaryFolder(prefix = 'certdesk-test-'): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix))
  whenFileEnds(() => rm(folder, { recursive: true, force: true }))
  return folder
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a real `certdesk` process, as a user or a script would. */
export function runCertdesk(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, CERTDESK_HOME: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }))
  })
}

/** Runs `certdesk … --json` and parses stdout, failing loudly with stderr if it did not succeed. */
export async function runCertdeskJson<T>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  const result = await runCertdesk([...args, '--json'], env)
  if (result.code !== 0) throw new Error(`certdesk ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/** Runs the real openssl; returns stdout, or throws with its stderr. */
export async function openssl(args: string[], input?: string): Promise<string> {
  if (input !== undefined) {
    return new Promise((resolvePromise, reject) => {
      const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('close', (code) => (code === 0 ? resolvePromise(stdout) : reject(new Error(stderr))))
      child.stdin.end(input)
    })
  }
  const { stdout } = await execFileAsync('openssl', args)
  return stdout
}

export async function command(file: string, args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFileAsync(file, args, { cwd })
  return stdout
}
