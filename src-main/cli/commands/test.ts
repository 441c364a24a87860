import type { Command } from 'commander'
import { type CliContext, parsePort, passphraseFrom, ReportedFailure, UsageError, readInputFile } from '../context'
import { describeQuickTest } from '../output'

/** `certdesk test`: the seed's quick test against a device of the registry, or a bundle zip. */
export function registerTestCommand(program: Command, context: CliContext): void {
  const { io, open, print } = context
  program
    .command('test')
    .description("the seed's quick test (subscribe /hello, publish, receive) with a diagnosis on failure")
    .option('--device <id>', 'test this device of the registry (device ID or id)')
    .option('--port <n>', 'broker port (8883 one-way, 8884 mutual; default: from the device)')
    .option('--host <host>', 'broker host (default: the embedded broker)')
    .option('--cert <id>', 'which bound certificate to use, when several are')
    .option('--bundle <file.zip>', 'test with a bundle zip instead of the registry (for other brokers)')
    .option('--device-id <id>', 'with --bundle: the client_id')
    .option('--username <name>', 'with --bundle: the username')
    .option('--key-passphrase-env <var>', 'with --bundle: environment variable holding the key passphrase')
    .action(
      async (
        options: {
          device?: string
          port?: string
          host?: string
          cert?: string
          bundle?: string
          deviceId?: string
          username?: string
          keyPassphraseEnv?: string
        },
        command: Command,
      ) => {
        // The MQTT client takes ~100 ms to load: only this command needs it.
        const [{ runQuickTest }, { profileForDevice, profileFromBundle }] = await Promise.all([
          import('../../core/tester/quickTest'),
          import('../../core/tester/profileSources'),
        ])
        let profile
        let certdeskDataDir: string | undefined
        if (options.bundle !== undefined) {
          if (!options.deviceId || !options.port || !options.host)
            throw new UsageError('With --bundle, give --device-id, --port and --host too.')
          const zip = await readInputFile(options.bundle)
          const passphrase =
            options.keyPassphraseEnv === undefined ? undefined : passphraseFrom({ passphraseEnv: options.keyPassphraseEnv }, io.env)
          profile = profileFromBundle(zip, {
            host: options.host,
            port: parsePort(options.port),
            clientId: options.deviceId,
            username: options.username,
            passphrase,
          })
        } else {
          if (!options.device) throw new UsageError('Give --device ID (or --bundle FILE.zip with --device-id, --port and --host).')
          const workspace = await open(command)
          profile = await profileForDevice(workspace, options.device, {
            port: options.port === undefined ? undefined : parsePort(options.port),
            host: options.host,
            certificateId: options.cert,
          })
          certdeskDataDir = workspace.dataDir
        }
        const result = await runQuickTest(profile, { certdeskDataDir })
        print(command, result, describeQuickTest(result))
        if (!result.pass) throw new ReportedFailure()
      },
    )
}
