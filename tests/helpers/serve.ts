import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { PROJECT_ROOT } from './tools'

export interface ServeProcess {
  child: ChildProcess
  /** The printed sign-in URL, token included. */
  url: string
  /** What `serve` wrote on stderr so far. */
  stderr(): string
}

/** Runs a real `certdesk serve --json` on a data folder; stopped when the test file ends. */
export function startServe(dataDir: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/certdesk.mjs'), '--data', dataDir, 'serve', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CERTDESK_HOME: '' },
  })
  afterAll(() => {
    child.kill('SIGTERM')
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      try {
        resolve({ child, url: (JSON.parse(output) as { url: string }).url, stderr: () => stderr })
      } catch {
        // Not the whole JSON value yet.
      }
    })
    child.on('exit', (code) => reject(new Error(`certdesk serve exited ${code}: ${stderr}`)))
  })
}
