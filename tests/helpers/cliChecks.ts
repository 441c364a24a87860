import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { runCertdesk } from './tools'

/**
 * A refusal as the operator sees it: a non-zero exit (the one given, if any), one plain sentence
 * on stderr starting "certdesk: ", nothing on stdout, no stack trace.
 */
export async function expectCliRefusal(
  args: string[],
  pattern: RegExp,
  options: { exitCode?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const result = await runCertdesk(args, options.env)
  if (options.exitCode === undefined) expect(result.code, result.stderr).not.toBe(0)
  else expect(result.code, result.stderr).toBe(options.exitCode)
  expect(result.stdout).toBe('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines, result.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^certdesk: /)
  expect(lines[0]).toMatch(pattern)
  expect(result.stderr).not.toMatch(/\n\s+at |Error:/)
}

/** Every file of a folder with its text, to prove a refusal changed nothing. */
export async function folderSnapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files[join(entry.parentPath, entry.name)] = await readFile(join(entry.parentPath, entry.name), 'utf8')
  }
  return files
}
