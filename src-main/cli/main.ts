import { Command, CommanderError } from 'commander'
import { CertdeskError, isCertdeskError } from '../core/errors'
import { type CliIo, createCliContext, ReportedFailure, UsageError } from './context'
import { registerBrokerCommands } from './commands/broker'
import { registerCaCommands } from './commands/ca'
import { registerCertCommands } from './commands/cert'
import { registerDeviceCommands } from './commands/device'
import { registerExportCommands } from './commands/export'
import { registerFolderCommands } from './commands/folder'
import { registerProfileCommands } from './commands/profile'
import { registerProvisionCommand } from './commands/provision'
import { registerServeCommand } from './commands/serve'
import { registerTestCommand } from './commands/test'
import { escapeControlCharacters } from './output'

export type { CliIo } from './context'

/** Adds the command-line step to messages whose fix the core cannot name. */
function withCliHint(error: CertdeskError): string {
  switch (error.code) {
    case 'NOT_INITIALISED':
      return `${error.message} Run "certdesk ca init" first.`
    case 'CORRUPT_STORE':
      return error.message.includes('certdesk doctor') ? error.message : `${error.message} "certdesk doctor" checks the whole folder.`
    case 'PASSPHRASE_REQUIRED':
      return `${error.message} Pass --passphrase-env VAR, with the passphrase in the environment variable VAR.`
    default:
      return error.message
  }
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('certdesk')
  program
    .description('Offline certificate manager for MQTT device fleets: root CA, device certificates, bindings, bundles.')
    .option('--data <dir>', "data folder (default: $CERTDESK_HOME, else the desktop app's folder)")
    .option('--json', 'print one JSON value on stdout')
    .option('--passphrase-env <var>', 'environment variable holding the passphrase that protects the keys')
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(`${text.replace(/^error: /, 'certdesk: ').trimEnd()}\n`),
    })
    .exitOverride()

  // The groups in the order `certdesk --help` lists them.
  const context = createCliContext(io)
  registerCaCommands(program, context)
  registerFolderCommands(program, context)
  registerDeviceCommands(program, context)
  registerCertCommands(program, context)
  registerProvisionCommand(program, context)
  registerProfileCommands(program, context)
  registerBrokerCommands(program, context)
  registerExportCommands(program, context)
  registerTestCommand(program, context)
  registerServeCommand(program, context)

  return program
}

/** Runs one command line; returns the exit code instead of exiting, so tests can call it too. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one line (or the help text).
      return error.exitCode === 0 ? 0 : 2
    }
    if (error instanceof ReportedFailure) return 1
    if (error instanceof UsageError) {
      io.stderr(`certdesk: ${escapeControlCharacters(error.message)}\n`)
      return 2
    }
    if (isCertdeskError(error)) {
      io.stderr(`certdesk: ${escapeControlCharacters(withCliHint(error))}\n`)
      // The underlying error (errno, parser message) for whoever debugs it; never by default.
      if (io.env.CERTDESK_DEBUG && error.cause !== undefined)
        io.stderr(`cause: ${error.cause instanceof Error ? error.cause.stack : String(error.cause)}\n`)
      return 1
    }
    const message = error instanceof Error ? error.message : String(error)
    io.stderr(`certdesk: unexpected error: ${escapeControlCharacters(message)}\n`)
    if (io.env.CERTDESK_DEBUG) io.stderr(`${(error as Error)?.stack ?? ''}\n`)
    return 70
  }
}
