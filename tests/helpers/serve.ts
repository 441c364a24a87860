import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { PROJECT_ROOT, freePort, runCertdeskJson, stopChild, whenFileEnds } from './tools'

export interface ServeProcess {
  child: ChildProcess
  /** The printed sign-in URL, token included. */
  url: string
  /** What `serve` wrote on stderr so far. */
  stderr(): string
}

export interface ServeOptions {
  /** More options for `serve`: `--no-broker`, `--passphrase-env NAME`. */
  args?: string[]
  /** More environment for it (the variable `--passphrase-env` names, say). */
  env?: NodeJS.ProcessEnv
}

/** Runs a real `certdesk serve --json` on a data folder; stopped when the test file ends. */
export function startServe(dataDir: string, options: ServeOptions = {}): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'bin/certdesk.mjs'), '--data', dataDir, 'serve', '--json', ...(options.args ?? [])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CERTDESK_HOME: '', ...options.env },
    },
  )
  whenFileEnds(() => stopChild(child))
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
    child.on('exit', (code) => {
      reject(new Error(`certdesk serve exited ${code}: ${stderr}`))
    })
  })
}

/** Points a data folder's broker at two free loopback ports (`certdesk broker settings`); its saved settings. */
export async function brokerOnFreePorts(dataDir: string): Promise<{ oneWayPort: number; mutualPort: number }> {
  const [oneWayPort, mutualPort] = [await freePort(), await freePort()]
  return runCertdeskJson([
    '--data',
    dataDir,
    'broker',
    'settings',
    '--one-way-port',
    String(oneWayPort),
    '--mutual-port',
    String(mutualPort),
  ])
}
