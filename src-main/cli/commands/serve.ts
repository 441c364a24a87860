import type { Command } from 'commander'
import { isCertdeskError } from '../../core/errors'
import { type CliContext, parsePort, untilStopped } from '../context'

/** `certdesk serve`: browser mode, until SIGINT or SIGTERM. */
export function registerServeCommand(program: Command, context: CliContext): void {
  const { io, dataDir, open, print } = context
  program
    .command('serve')
    .description('browser mode: the screens and the API on http://127.0.0.1, plus the embedded broker')
    .option('--port <n>', 'HTTP port (default: any free port)', '0')
    .option('--no-broker', 'do not start the embedded broker')
    .action(async (options: { port: string; broker: boolean }, command: Command) => {
      // Changes made in the page are the browser's, in the audit log. An empty folder (or none yet)
      // opens on the page's first-run screen, which creates the root CA; anything else is refused.
      const workspace = await open(command, 'browser').catch((error: unknown) => {
        if (isCertdeskError(error) && error.code === 'NOT_INITIALISED') return { dataDir: dataDir(command) }
        throw error
      })
      // Loaded here, not at start-up: the HTTP server and the broker are for this command only.
      const { startBrowserMode } = await import('../../serve/browserMode')
      const mode = await startBrowserMode(workspace, { port: parsePort(options.port), broker: options.broker })
      if (mode.broker.error && options.broker) io.stderr(`certdesk: ${mode.broker.error}\n`)
      // Listening for the signals before saying so: whoever reads the line may stop it at once.
      const stopped = untilStopped()
      print(
        command,
        { url: mode.server.url, port: mode.server.port, broker: mode.broker },
        `Certdesk is open at ${mode.server.url}\n(the token in the address is the key to this session; SIGINT or SIGTERM stops it)`,
      )
      await stopped
      await mode.close()
    })
}
