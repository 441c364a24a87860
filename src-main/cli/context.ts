import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { CertdeskError, invalidInput } from '../core/errors'
import { KEY_TYPES } from '../core/pki/keys'
import { writeExportFile } from '../core/store/files'
import { resolveDataFolder } from '../core/store/dataFolder'
import type { AuditActor } from '../core/store/schema'
import { Workspace } from '../core/workspace'
import { escapeControlCharacters } from './output'

/** The options every command takes, given before or after the command's name. */
export interface GlobalOptions {
  data?: string
  json?: boolean
  passphraseEnv?: string
}

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /** Bytes too: `--out -` writes a bundle zip to standard output. */
  stdout: (text: string | Uint8Array) => void
  stderr: (text: string) => void
  env: NodeJS.ProcessEnv
  /** Standard error is a terminal: progress is drawn as a bar there. */
  stderrIsTerminal?: boolean
}

export class UsageError extends Error {}
/** The command has already said why it failed (on stdout, as its result): just exit 1. */
export class ReportedFailure extends Error {}

export const parseDays = (value: string): number => parseCount(value, 'days')

export function parseCount(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw invalidInput(`"${value}" is not a number of ${what}.`)
  return Number(value)
}

export function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw invalidInput(`"${value}" is not a port number (0 to 65535).`)
  return Number(value)
}

export function passphraseFrom(options: GlobalOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.passphraseEnv === undefined) return undefined
  return environmentValue(env, options.passphraseEnv, '--passphrase-env')
}

/** The value of the environment variable an option (`flag`) names; unset or empty is a usage error. */
export function environmentValue(env: NodeJS.ProcessEnv, variable: string, flag: string): string {
  const value = env[variable]
  if (value === undefined || value === '') throw new UsageError(`The environment variable ${variable} named by ${flag} is not set.`)
  return value
}

/**
 * Export files are never overwritten by accident, never half-written, and never anything but a
 * regular file; `-` writes to standard output (for a pipe), and the report goes to stderr then.
 */
export async function writeExport(io: CliIo, path: string, data: string | Buffer, mode: number, force: boolean): Promise<string> {
  if (path === '-') {
    io.stdout(data)
    return '-'
  }
  const target = resolve(path)
  await writeExportFile(target, data, mode, force)
  return target
}

/**
 * Resolves on SIGINT or SIGTERM. The listeners stay installed (not `once`): a dependency's exit
 * hook may re-raise the signal after its own clean-up, and that second signal must not kill the
 * process while it closes. Call it before printing that the command is running: once that line
 * is out, a script may stop the process at once (the CLI starts with no library installing
 * signal handlers of its own).
 */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.on('SIGINT', () => resolve())
    process.on('SIGTERM', () => resolve())
  })
}

export const keyTypeOption = () => new Option('--key-type <type>', 'key type').choices(KEY_TYPES as unknown as string[])

/** What every command group is given: the CLI's io, and helpers that read the global options. */
export interface CliContext {
  io: CliIo
  /** The global options as this command sees them. */
  globals: (command: Command) => GlobalOptions
  /** The data folder: `--data`, else `$CERTDESK_HOME`, else the desktop app's folder. */
  dataDir: (command: Command) => string
  open: (command: Command, actor?: AuditActor) => Promise<Workspace>
  /** The result: JSON with `--json`, else the human text (a function for text that costs to build, as a table of 10,000 rows). */
  print: (command: Command, value: unknown, human: string | (() => string)) => void
  /** After an export: the usual report, or with `--out -` (stdout holds the file) a line on stderr. */
  printExport: (command: Command, path: string, value: unknown, human: string) => void
}

export function createCliContext(io: CliIo): CliContext {
  const globals = (command: Command) => command.optsWithGlobals<GlobalOptions>()
  const dataDir = (command: Command) => resolveDataFolder(globals(command).data, io.env)
  const open = (command: Command, actor: AuditActor = 'cli') =>
    Workspace.open(dataDir(command), { passphrase: passphraseFrom(globals(command), io.env), actor })
  // Human text carries names and client ids that others chose: escape their control characters
  // so a refused client cannot rewrite the operator's terminal (JSON escapes them by itself).
  const print = (command: Command, value: unknown, human: string | (() => string)) =>
    io.stdout(
      globals(command).json
        ? `${JSON.stringify(value, null, 2)}\n`
        : `${escapeControlCharacters(typeof human === 'function' ? human() : human)}\n`,
    )

  /** After an export: the usual report, or with `--out -` (stdout holds the file) a line on stderr. */
  const printExport = (command: Command, path: string, value: unknown, human: string) =>
    path === '-' ? io.stderr(`${human.replace(/^Wrote -/, 'Wrote the file to standard output')}\n`) : print(command, value, human)

  return { io, globals, dataDir, open, print, printExport }
}

/** A file the user named: its bytes, or one sentence saying it cannot be read. */
export async function readInputFile(path: string): Promise<Buffer> {
  try {
    return await readFile(resolve(path))
  } catch (error) {
    throw new CertdeskError('INVALID_INPUT', `Cannot read ${path}.`, { cause: error })
  }
}
