import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { PROJECT_ROOT } from './processes'

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

/** Runs a script that loops forever until it prints the echoed message, then stops it. */
export function runUntilEcho(script: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script], { cwd, env: { ...process.env, ...env, PYTHONUNBUFFERED: '1' } })
    let output = ''
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`no echo within 15 s; output:\n${output}`))
    }, 15_000)
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes(SEED_ECHO)) {
        clearTimeout(timer)
        child.kill()
        resolve(output)
      }
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
  })
}
