import type { Command } from 'commander'
import { CertdeskError, invalidInput } from '../../core/errors'
import type { ListenerState } from '../../core/broker/broker'
import { readConnectionLog } from '../../core/broker/connectionLog'
import type { TopicRule } from '../../core/broker/topicRules'
import { type CliContext, parseCount, parsePort, untilStopped, writeExport, readInputFile } from '../context'
import { connectionLogTable, topicRulesTable } from '../output'
import { serverCertificateView } from '../../core/registry/views'
import type { Workspace } from '../../core/workspace'

/** `certdesk broker`: run the embedded broker, its saved settings, topic rules, connection log and TLS identity. */
export function registerBrokerCommands(program: Command, context: CliContext): void {
  const { io, open, print, printExport } = context
  const broker = program.command('broker').description('the embedded MQTT broker: one-way TLS (8883) and mutual TLS (8884)')
  broker
    .command('run', { isDefault: true })
    .description('run the broker in the foreground until SIGINT or SIGTERM (the default)')
    .option('--host <host>', 'address to listen on (default: saved setting, 127.0.0.1)')
    .option('--one-way-port <n>', 'one-way TLS port, username + device key (default: saved, 8883)')
    .option('--mutual-port <n>', 'mutual TLS port, client certificate (default: saved, 8884)')
    .option('--server-name <names...>', 'more names for the server certificate (default: saved)')
    .action(async (options: { host?: string; oneWayPort?: string; mutualPort?: string; serverName?: string[] }, command: Command) => {
      const workspace = await open(command)
      const saved = workspace.getBrokerSettings()
      // Loaded here, not at start-up: only `broker run` needs the broker.
      const { startBroker } = await import('../../core/broker/broker')
      const running = await startBroker(workspace, {
        ...saved,
        host: options.host ?? saved.host,
        oneWayPort: options.oneWayPort === undefined ? saved.oneWayPort : parsePort(options.oneWayPort),
        mutualPort: options.mutualPort === undefined ? saved.mutualPort : parsePort(options.mutualPort),
        extraNames: options.serverName ?? saved.extraNames,
      })
      for (const listener of [running.oneWay, running.mutual]) {
        if (listener.error) io.stderr(`certdesk: ${listener.error}.\n`)
      }
      if (!running.oneWay.listening && !running.mutual.listening) {
        await running.close()
        throw new CertdeskError('IO', 'Neither listener could start, so the broker is not running.')
      }
      const where = (listener: ListenerState, label: string) =>
        listener.listening ? `${label} on ${running.host}:${listener.port}` : `${label} not running`
      // The broker's own status, as the app and browser mode show it.
      const { host, oneWay, mutual, serverCertificate, endpoints } = running.status()
      // Listening for the signals before saying so: whoever reads the line may stop it at once.
      const stopped = untilStopped()
      print(
        command,
        { host, oneWay, mutual, serverCertificate, endpoints },
        `Certdesk broker: ${where(running.oneWay, 'one-way TLS')}, ${where(running.mutual, 'mutual TLS')}; SIGINT or SIGTERM stops it.`,
      )
      await stopped
      await running.close()
    })
  broker
    .command('settings')
    .description('show or change the saved broker settings (used by the desktop app, and as defaults here)')
    .option('--host <host>', 'address to listen on')
    .option('--one-way-port <n>', 'one-way TLS port')
    .option('--mutual-port <n>', 'mutual TLS port')
    .option('--server-name <names...>', 'more names for the server certificate')
    .option('--max-packet-bytes <n>', 'largest MQTT packet a connected device may send (default 262144)')
    .option('--max-connections <n>', 'open connections over both listeners (default 1000)')
    .option('--connect-rate <n>', 'connections one address may open per 10 s (default 200)')
    .action(
      async (
        options: {
          host?: string
          oneWayPort?: string
          mutualPort?: string
          serverName?: string[]
          maxPacketBytes?: string
          maxConnections?: string
          connectRate?: string
        },
        command: Command,
      ) => {
        const workspace = await open(command)
        // Flags not given stay undefined, and the core leaves those settings as they are.
        const optional = <T>(value: string | undefined, parse: (text: string) => T) => (value === undefined ? undefined : parse(value))
        const changes = {
          host: options.host,
          oneWayPort: optional(options.oneWayPort, parsePort),
          mutualPort: optional(options.mutualPort, parsePort),
          extraNames: options.serverName,
          maxPacketBytes: optional(options.maxPacketBytes, (text) => parseCount(text, 'bytes')),
          maxConnections: optional(options.maxConnections, (text) => parseCount(text, 'connections')),
          connectRatePerAddress: optional(options.connectRate, (text) => parseCount(text, 'connections')),
        }
        const settings = Object.values(changes).every((value) => value === undefined)
          ? workspace.getBrokerSettings()
          : await workspace.updateBrokerSettings(changes)
        print(
          command,
          settings,
          [
            `Host: ${settings.host}`,
            `One-way TLS port: ${settings.oneWayPort}`,
            `Mutual TLS port: ${settings.mutualPort}`,
            `Extra server names: ${settings.extraNames.join(', ') || '(none)'}`,
            `Maximum packet size: ${settings.maxPacketBytes} bytes (64 KiB for the CONNECT itself)`,
            `Maximum connections: ${settings.maxConnections}`,
            `Connections per address: ${settings.connectRatePerAddress} per 10 s`,
          ].join('\n'),
        )
      },
    )
  const acl = broker.command('acl').description('the topic rules: who may publish and subscribe where (first match wins, no match denies)')
  const showRules = (command: Command, workspace: Workspace) => {
    const { rules, isDefault } = workspace.getTopicRules()
    print(
      command,
      rules,
      `${topicRulesTable(rules)}\nAnything no rule matches is denied.${isDefault ? ' These are the default rules.' : ''} Change them with: certdesk broker acl set --file rules.json (start from: certdesk broker acl --json > rules.json)`,
    )
  }
  acl
    .command('show', { isDefault: true })
    .description('show the rules in order (the default)')
    .action(async (_options: unknown, command: Command) => showRules(command, await open(command)))
  acl
    .command('set')
    .description('replace the rules with a JSON array of {action, topic, permission}; a running broker applies them within a second')
    .requiredOption('--file <file>', 'JSON file holding the rules')
    .action(async (options: { file: string }, command: Command) => {
      const text = (await readInputFile(options.file)).toString('utf8')
      let rules: unknown
      try {
        rules = JSON.parse(text)
      } catch (error) {
        throw invalidInput(`${options.file} is not valid JSON (${(error as Error).message}).`)
      }
      // The core checks every rule; nothing is saved unless all are valid.
      const workspace = await open(command)
      await workspace.updateTopicRules(rules as TopicRule[])
      showRules(command, workspace)
    })
  acl
    .command('reset')
    .description('go back to the default rules')
    .action(async (_options: unknown, command: Command) => {
      const workspace = await open(command)
      await workspace.resetTopicRules()
      showRules(command, workspace)
    })
  broker
    .command('log')
    .description('the connection log: every attempt, accepted or refused, with the reason')
    .action(async (_options: unknown, command: Command) => {
      const workspace = await open(command)
      const entries = await readConnectionLog(workspace.dataDir)
      print(command, entries, connectionLogTable(entries))
    })
  broker
    .command('export')
    .description("write the broker's TLS identity: broker_certs/server.crt, server.key, root_ca.crt")
    .requiredOption('--out <file>', 'zip file to write')
    .option('--server-name <names...>', 'more names for the server certificate')
    .option('--force', 'replace the file if it exists')
    .action(async (options: { out: string; serverName?: string[]; force?: boolean }, command: Command) => {
      const workspace = await open(command)
      let path = ''
      await workspace.exportBrokerBundle(options.serverName ?? [], async (zip) => {
        path = await writeExport(io, options.out, zip, 0o600, Boolean(options.force))
        return true
      })
      const record = workspace.snapshot().broker?.serverCertificate
      printExport(
        command,
        path,
        { path, serverCertificate: record && serverCertificateView(record) },
        `Wrote ${path}; it holds the broker's private key, keep it safe.`,
      )
    })
}
