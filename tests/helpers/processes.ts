import { type ChildProcess, spawn } from 'node:child_process'
import { connect as tcpConnect, createServer } from 'node:net'
import { join, resolve } from 'node:path'

// No Vitest here: the benches (plain tsx processes) use these too. tools.ts and serve.ts add the
// clean-up when a test file ends.

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..')

/** Ports this process has handed out: the system may offer a closed one again at once. */
const handedOut = new Set<number>()

/**
 * A loopback port nothing listens on right now, and not one handed out before in this process
 * (two calls in a row gave the same port about once in 10,000 pairs, and a test that asks for
 * its one-way and mutual ports together then failed with "address in use").
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise((resolve) => server.close(resolve))
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}

/**
 * Stops a child process and waits until it has exited (at once if it already has); one that
 * ignores SIGTERM for 5 s is killed, so nothing outlives the run.
 */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const stubborn = setTimeout(() => child.kill('SIGKILL'), 5_000).unref()
  return exited.finally(() => clearTimeout(stubborn))
}

export interface ServeProcess {
  child: ChildProcess
  /** The printed sign-in URL, token included. */
  url: string
  /** What `serve` wrote on stderr so far. */
  stderr(): string
}

/** Spawns a real `certdesk serve --json` on a data folder and resolves with what it prints; the caller stops it. */
export function spawnServe(
  dataDir: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; ready: Promise<ServeProcess> } {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/certdesk.mjs'), '--data', dataDir, 'serve', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CERTDESK_HOME: '', ...env },
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const ready = new Promise<ServeProcess>((resolve, reject) => {
    let stdout = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      try {
        resolve({ child, url: (JSON.parse(stdout) as { url: string }).url, stderr: () => stderr })
      } catch {
        // Not the whole JSON value yet.
      }
    })
    child.on('exit', (code) => {
      reject(new Error(`certdesk serve exited ${code}: ${stderr}`))
    })
  })
  return { child, ready }
}

/** Whether something accepts TCP connections on a loopback port now. */
function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
}

/**
 * Waits until a peer started by a test listens on a loopback port: fails at once when it has
 * exited (`alive`), or after `timeoutMs`, with `describe()` (its output) in the message.
 */
export async function waitForPort(
  port: number,
  options: { what: string; alive?: () => boolean; timeoutMs?: number; describe?: () => string },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  const detail = () => (options.describe ? `:\n${options.describe()}` : '')
  while (Date.now() < deadline) {
    if (options.alive && !options.alive()) throw new Error(`${options.what} exited before listening on ${port}${detail()}`)
    if (await listening(port)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${options.what} did not listen on ${port} within ${options.timeoutMs ?? 10_000} ms${detail()}`)
}
