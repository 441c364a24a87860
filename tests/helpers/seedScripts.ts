import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { PROJECT_ROOT, stopChild } from './processes'

// The seed's Python examples (tests/fixtures/seed), run as a device would run them: Debian's
// interpreter, which has python3-paho-mqtt 1.x (the `python3` first on PATH may not).
const PYTHON = '/usr/bin/python3'
/** What both examples print once their own message comes back from the broker. */
export const SEED_ECHO = `topic: /hello, payload: b'{"hello": "world"}'`

/** The seed's script with only host, port, credentials and file paths replaced, written into `dir`. */
export async function seedScript(name: 'one_way.py' | 'two_way.py', replacements: [string, string][], dir: string): Promise<string> {
  let text = await readFile(join(PROJECT_ROOT, 'tests/fixtures/seed', name), 'utf8')
  for (const [from, to] of replacements) {
    expect(text, `${name} should contain ${from}`).toContain(from)
    text = text.replaceAll(from, to)
  }
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

/** How a seed example ended: echoed its message, refused (its CONNACK code), or neither. */
export interface SeedRun {
  /** The example printed its own message back (SEED_ECHO). */
  echoed: boolean
  /** The CONNACK code it printed, if it got one. */
  connack?: number
  output: string
}

const CONNACK = /Connected with result code (\d+)/

/**
 * Runs a seed example until it echoes, is refused (a CONNACK code other than 0, or a TLS error
 * that ends it), or `timeoutMs` pass, then stops it: a refusal ends the run at once instead of
 * waiting out the example's reconnect loop.
 */
export function runSeed(
  script: string,
  cwd: string,
  options: {
    env?: NodeJS.ProcessEnv
    timeoutMs?: number
    /** Stops the example early, once what the test waits for has happened (an echo or a refusal always stops it). */
    until?: (output: string) => boolean
  } = {},
): Promise<SeedRun> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [script], { cwd, env: { ...process.env, ...options.env, PYTHONUNBUFFERED: '1' } })
    let output = ''
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      const code = CONNACK.exec(output)?.[1]
      void stopChild(child).then(() =>
        resolve({ echoed: output.includes(SEED_ECHO), connack: code === undefined ? undefined : Number(code), output }),
      )
    }
    const timer = setTimeout(finish, options.timeoutMs ?? 15_000)
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
      const code = CONNACK.exec(output)?.[1]
      if (output.includes(SEED_ECHO) || (code !== undefined && code !== '0') || options.until?.(output)) finish()
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('close', finish)
  })
}

/** Runs a script that loops forever until it prints the echoed message; anything else fails. */
export async function runUntilEcho(script: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const run = await runSeed(script, cwd, { env })
  if (!run.echoed) throw new Error(`no echo within 15 s; output:\n${run.output}`)
  return run.output
}
