import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { CertdeskError, invalidInput, isCertdeskError } from '../core/errors'
import { DEFAULT_KEY_TYPE, KEY_TYPES, parseKeyType } from '../core/pki/keys'
import { DEFAULT_DEVICE_CERTIFICATE_DAYS } from '../core/registry/certificates'
import { DEFAULT_ROOT_CA_COMMON_NAME, DEFAULT_ROOT_CA_DAYS } from '../core/registry/rootCa'
import { parseAuthType } from '../core/registry/devices'
import { writeExportFile } from '../core/store/files'
import { resolveDataFolder } from '../core/store/dataFolder'
import { type ListenerState, startBroker } from '../core/broker/broker'
import { readConnectionLog } from '../core/broker/connectionLog'
import { validatePort } from '../core/broker/settings'
import type { TopicRule } from '../core/broker/topicRules'
import { checkDataFolder } from '../core/store/doctor'
import type { AuditActor } from '../core/store/schema'
import { Workspace } from '../core/workspace'
import { startBrowserMode } from '../serve/browserMode'
import { runQuickTest } from '../core/tester/quickTest'
import { profileForDevice, profileFromBundle } from '../core/tester/profiles'
import {
  certificateTable,
  connectionLogTable,
  describeCertificate,
  describeDevice,
  describeRootCa,
  describeQuickTest,
  auditTable,
  deviceTable,
  escapeControlCharacters,
  topicRulesTable,
} from './output'

interface GlobalOptions {
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
}

class UsageError extends Error {}
/** The command has already said why it failed (on stdout, as its result): just exit 1. */
class ReportedFailure extends Error {}

function parseDays(value: string): number {
  if (!/^\d+$/.test(value)) throw invalidInput(`"${value}" is not a number of days.`)
  return Number(value)
}

function parseCount(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw invalidInput(`"${value}" is not a number of ${what}.`)
  return Number(value)
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw invalidInput(`"${value}" is not a port number (0 to 65535).`)
  return Number(value)
}

function passphraseFrom(options: GlobalOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.passphraseEnv === undefined) return undefined
  const value = env[options.passphraseEnv]
  if (value === undefined || value === '') {
    throw new UsageError(`The environment variable ${options.passphraseEnv} named by --passphrase-env is not set.`)
  }
  return value
}

/**
 * Export files are never overwritten by accident, never half-written, and never anything but a
 * regular file; `-` writes to standard output (for a pipe), and the report goes to stderr then.
 */
async function writeExport(io: CliIo, path: string, data: string | Buffer, mode: number, force: boolean): Promise<string> {
  if (path === '-') {
    io.stdout(data)
    return '-'
  }
  const target = resolve(path)
  await writeExportFile(target, data, mode, force)
  return target
}

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
    .option('--data <dir>', 'data folder (default: $CERTDESK_HOME, else the desktop app\'s folder)')
    .option('--json', 'print one JSON value on stdout')
    .option('--passphrase-env <var>', 'environment variable holding the passphrase that protects the keys')
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(`${text.replace(/^error: /, 'certdesk: ').trimEnd()}\n`),
    })
    .exitOverride()

  const globals = (command: Command) => command.optsWithGlobals<GlobalOptions>()
  const dataDir = (command: Command) => resolveDataFolder(globals(command).data, io.env)
  const open = (command: Command, actor: AuditActor = 'cli') =>
    Workspace.open(dataDir(command), { passphrase: passphraseFrom(globals(command), io.env), actor })
  // Human text carries names and client ids that others chose: escape their control characters
  // so a refused client cannot rewrite the operator's terminal (JSON escapes them by itself).
  const print = (command: Command, value: unknown, human: string) =>
    io.stdout(globals(command).json ? `${JSON.stringify(value, null, 2)}\n` : `${escapeControlCharacters(human)}\n`)

  /** After an export: the usual report, or with `--out -` (stdout holds the file) a line on stderr. */
  const printExport = (command: Command, path: string, value: unknown, human: string) =>
    path === '-' ? io.stderr(`${human.replace(/^Wrote -/, 'Wrote the file to standard output')}\n`) : print(command, value, human)

  const keyTypeOption = () =>
    new Option('--key-type <type>', 'key type').choices(KEY_TYPES as unknown as string[])

  // ----- ca -----
  const ca = program.command('ca').description('the root CA of this data folder')
  ca.command('init')
    .description('create the data folder and its root CA (once per folder)')
    .addOption(keyTypeOption().default(DEFAULT_KEY_TYPE))
    .option('--common-name <cn>', 'subject common name', DEFAULT_ROOT_CA_COMMON_NAME)
    .option('--days <n>', 'validity in days', String(DEFAULT_ROOT_CA_DAYS))
    .action(async (options: { keyType: string; commonName: string; days: string }, command: Command) => {
      const workspace = await Workspace.initialise(dataDir(command), {
        keyType: parseKeyType(options.keyType),
        commonName: options.commonName,
        days: parseDays(options.days),
        passphrase: passphraseFrom(globals(command), io.env),
        actor: 'cli',
      })
      const view = workspace.rootCa()
      print(command, view, `Created the root CA in ${view.dataDir}.\n${describeRootCa(view)}`)
    })
  ca.command('show')
    .description('show the root CA and how its key is protected')
    .action(async (_options: unknown, command: Command) => {
      const view = (await open(command)).rootCa()
      print(command, view, describeRootCa(view))
    })
  ca.command('protect')
    .description('change how the keys are protected: a new passphrase, or a key file (the keys themselves stay)')
    .option('--new-passphrase-env <var>', 'environment variable holding the new passphrase (at least 8 characters)')
    .option('--key-file', 'keep the vault key in vault.key, readable by its owner only (no passphrase)')
    .action(async (options: { newPassphraseEnv?: string; keyFile?: boolean }, command: Command) => {
      if (Boolean(options.newPassphraseEnv) === Boolean(options.keyFile)) throw new UsageError('Give --new-passphrase-env VAR or --key-file.')
      const passphrase = options.newPassphraseEnv === undefined ? undefined : passphraseFrom({ passphraseEnv: options.newPassphraseEnv }, io.env)
      const state = await (await open(command)).changeKeyProtection(passphrase === undefined ? {} : { passphrase })
      print(command, state, `The keys are now protected by ${state.protection === 'passphrase' ? 'the new passphrase' : 'the key file vault.key'}.`)
    })
  ca.command('export')
    .description('write the root certificate (PEM), e.g. root_ca.crt')
    .requiredOption('--out <file>', 'file to write')
    .option('--force', 'replace the file if it exists')
    .action(async (options: { out: string; force?: boolean }, command: Command) => {
      const workspace = await open(command)
      const path = await writeExport(io, options.out, await workspace.rootCertificatePem(), 0o644, Boolean(options.force))
      printExport(command, path, { path, fingerprint256: workspace.rootCa().fingerprint256 }, `Wrote ${path}.`)
    })

  // ----- doctor -----
  program.command('doctor')
    .description('check the data folder (index, vault, record files and their fingerprints, leftovers, lock, bindings) and mend it')
    .option('--repair', 'set aside record files the index does not name, and drop bindings that point at nothing')
    .option('--restore-index', 'if config.json is missing, restore it from the newest backup in the folder')
    .action(async (options: { repair?: boolean; restoreIndex?: boolean }, command: Command) => {
      const report = await checkDataFolder(dataDir(command), {
        repair: options.repair,
        restoreIndex: options.restoreIndex,
        passphrase: passphraseFrom(globals(command), io.env),
        actor: 'cli',
      })
      const mark = { ok: 'ok      ', repaired: 'repaired', problem: 'PROBLEM ' }
      const lines = report.findings.map((finding) => `${mark[finding.status]}  ${finding.check.padEnd(9)}  ${finding.message}`)
      lines.push(report.healthy ? `The data folder ${report.dataDir} is healthy.` : `The data folder ${report.dataDir} has problems (above).`)
      print(command, report, lines.join('\n'))
      if (!report.healthy) throw new ReportedFailure()
    })

  // ----- audit -----
  program.command('audit')
    .description('the audit log: every change to the registry, who made it (cli, app, browser) and when, hash-chained')
    .option('--verify', 'check the chain: exit 1 if an entry was edited or removed')
    .option('--last <n>', 'show only the newest N entries')
    .action(async (options: { verify?: boolean; last?: string }, command: Command) => {
      const { entries, verification } = (await open(command)).auditLog()
      const last = options.last === undefined ? undefined : parseCount(options.last, 'entries')
      const shown = last === undefined ? entries : last === 0 ? [] : entries.slice(-last)
      const verdict = verification.intact
        ? `The audit log is intact: ${verification.entries} entries, ending where the registry says it ends.`
        : `The audit log has been tampered with or damaged:\n${verification.problems.map((problem) => `- ${problem}`).join('\n')}`
      print(command, options.verify ? verification : shown, options.verify ? verdict : `${auditTable(shown)}${verification.intact ? '' : `\n${verdict}`}`)
      if (options.verify && !verification.intact) throw new ReportedFailure()
    })

  // ----- device -----
  const device = program.command('device').description('devices: device ID, username, device key, authentication type')
  device.command('create')
    .description('create a device; its device key is generated')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--auth <type>', 'authentication type: token (one-way TLS) or cert (mutual TLS)')
    .option('--device-id <id>', 'MQTT client_id (8-36 of A-Z a-z 0-9 _ -; generated if omitted)')
    .option('--username <name>', 'MQTT username (defaults to the device ID)')
    .action(async (options: { name: string; auth: string; deviceId?: string; username?: string }, command: Command) => {
      const workspace = await open(command)
      const view = await workspace.createDevice({
        name: options.name,
        authType: parseAuthType(options.auth),
        deviceId: options.deviceId,
        username: options.username,
      })
      print(command, view, `Created device ${view.deviceId}.\n${describeDevice(view)}`)
    })
  device.command('list')
    .description('list devices')
    .action(async (_options: unknown, command: Command) => {
      const devices = (await open(command)).listDevices()
      print(command, devices, deviceTable(devices))
    })
  device.command('show')
    .argument('<device>', 'id or device ID')
    .description('show a device and its authentication info')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const workspace = await open(command)
      const view = workspace.getDevice(reference)
      // The key is sealed under the vault: shown when the vault opens (key file, or --passphrase-env).
      const deviceKey = await workspace.revealDeviceKey(view.id).catch((error: unknown) => {
        if (isCertdeskError(error) && error.code === 'PASSPHRASE_REQUIRED') return undefined
        throw error
      })
      print(command, deviceKey === undefined ? view : { ...view, deviceKey }, describeDevice(view, deviceKey))
    })
  device.command('update')
    .argument('<device>', 'id or device ID')
    .description('rename a device or change its authentication type')
    .option('--name <name>', 'new display name')
    .option('--auth <type>', 'token or cert')
    .action(async (reference: string, options: { name?: string; auth?: string }, command: Command) => {
      if (options.name === undefined && options.auth === undefined) throw new UsageError('Nothing to change: give --name or --auth.')
      const view = await (await open(command)).updateDevice(reference, {
        name: options.name,
        authType: options.auth === undefined ? undefined : parseAuthType(options.auth),
      })
      print(command, view, `Updated device ${view.deviceId}.`)
    })
  device.command('regenerate-key')
    .argument('<device>', 'id or device ID')
    .description('replace the device key (the old one stops working)')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const view = await (await open(command)).regenerateDeviceKey(reference)
      print(command, view, `New device key for ${view.deviceId}: ${view.deviceKey}`)
    })
  device.command('delete')
    .argument('<device>', 'id or device ID')
    .description('delete a device and its bindings')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const view = await (await open(command)).deleteDevice(reference)
      print(command, view, `Deleted device ${view.deviceId}.`)
    })

  // ----- cert -----
  const cert = program.command('cert').description('device certificates, their bindings and bundles')
  cert.command('create')
    .description('issue a device certificate with a fresh key pair')
    .requiredOption('--name <name>', 'name, unique (1-64 characters)')
    .option('--disabled', 'create it disabled')
    .addOption(keyTypeOption().argParser((value) => value))
    .option('--days <n>', 'validity in days', String(DEFAULT_DEVICE_CERTIFICATE_DAYS))
    .action(async (options: { name: string; disabled?: boolean; keyType?: string; days: string }, command: Command) => {
      const workspace = await open(command)
      const view = await workspace.issueDeviceCertificate({
        name: options.name,
        enabled: !options.disabled,
        keyType: options.keyType === undefined ? undefined : parseKeyType(options.keyType),
        days: parseDays(options.days),
      })
      print(
        command,
        view,
        `Created certificate ${view.id}. Export its bundle now and keep it safe: certdesk cert export ${view.id} --out ${view.name.replace(/[^\w.-]+/g, '_')}.zip\n${describeCertificate(view)}`,
      )
    })
  cert.command('list')
    .description('list certificates')
    .action(async (_options: unknown, command: Command) => {
      const certificates = (await open(command)).listCertificates()
      print(command, certificates, certificateTable(certificates))
    })
  cert.command('show')
    .argument('<cert>', 'certificate id or common name')
    .description('show a certificate')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const workspace = await open(command)
      const view = workspace.getCertificate(reference)
      print(command, { ...view, certificatePem: await workspace.certificatePem(view.id) }, describeCertificate(view))
    })
  cert.command('update')
    .argument('<cert>', 'certificate id or common name')
    .description('rename a certificate or switch its availability')
    .option('--name <name>', 'new name')
    .option('--enable', 'make it available')
    .option('--disable', 'make it unavailable')
    .action(async (reference: string, options: { name?: string; enable?: boolean; disable?: boolean }, command: Command) => {
      if (options.enable && options.disable) throw new UsageError('Give --enable or --disable, not both.')
      if (options.name === undefined && !options.enable && !options.disable) {
        throw new UsageError('Nothing to change: give --name, --enable or --disable.')
      }
      const view = await (await open(command)).updateCertificate(reference, {
        name: options.name,
        enabled: options.enable ? true : options.disable ? false : undefined,
      })
      print(command, view, `Updated certificate ${view.id}.\n${describeCertificate(view)}`)
    })
  cert.command('delete')
    .argument('<cert>', 'certificate id or common name')
    .description('delete a certificate (refused while devices are bound)')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const view = await (await open(command)).deleteCertificate(reference)
      print(command, view, `Deleted certificate ${view.id}.`)
    })
  cert.command('bind')
    .argument('<cert>', 'certificate id or common name')
    .argument('<devices...>', 'device IDs (or ids) of devices with cert authentication')
    .description('bind devices to a certificate (all or none)')
    .action(async (reference: string, devices: string[], _options: unknown, command: Command) => {
      const view = await (await open(command)).bindDevices(reference, devices)
      print(command, view, `Bound ${devices.join(', ')} to ${view.id}.`)
    })
  cert.command('unbind')
    .argument('<cert>', 'certificate id or common name')
    .argument('<devices...>', 'device IDs (or ids)')
    .description('unbind devices from a certificate')
    .action(async (reference: string, devices: string[], _options: unknown, command: Command) => {
      const view = await (await open(command)).unbindDevices(reference, devices)
      print(command, view, `Unbound ${devices.join(', ')} from ${view.id}.`)
    })
  cert.command('export')
    .argument('<cert>', 'certificate id or common name')
    .description('write the bundle zip: common_certs/common.crt, common.key, root_ca.crt')
    .requiredOption('--out <file>', 'zip file to write')
    .option('--force', 'replace the file if it exists')
    .action(async (reference: string, options: { out: string; force?: boolean }, command: Command) => {
      const workspace = await open(command)
      const certificate = workspace.getCertificate(reference)
      let path = ''
      await workspace.exportDeviceBundle(reference, async (zip) => {
        path = await writeExport(io, options.out, zip, 0o600, Boolean(options.force))
        return true
      })
      printExport(command, path, { path, certificate: certificate.id }, `Wrote ${path}; it holds a private key, keep it safe.`)
    })

  // ----- broker -----
  const broker = program.command('broker').description('the embedded MQTT broker: one-way TLS (8883) and mutual TLS (8884)')
  broker.command('run', { isDefault: true })
    .description('run the broker in the foreground until SIGINT or SIGTERM (the default)')
    .option('--host <host>', 'address to listen on (default: saved setting, 127.0.0.1)')
    .option('--one-way-port <n>', 'one-way TLS port, username + device key (default: saved, 8883)')
    .option('--mutual-port <n>', 'mutual TLS port, client certificate (default: saved, 8884)')
    .option('--server-name <names...>', 'more names for the server certificate (default: saved)')
    .action(async (options: { host?: string; oneWayPort?: string; mutualPort?: string; serverName?: string[] }, command: Command) => {
      const workspace = await open(command)
      const saved = workspace.brokerSettings()
      const running = await startBroker(workspace, {
        host: options.host ?? saved.host,
        oneWayPort: options.oneWayPort === undefined ? saved.oneWayPort : parsePort(options.oneWayPort),
        mutualPort: options.mutualPort === undefined ? saved.mutualPort : parsePort(options.mutualPort),
        extraNames: options.serverName ?? saved.extraNames,
        maxPacketBytes: saved.maxPacketBytes,
        maxConnections: saved.maxConnections,
        connectRatePerAddress: saved.connectRatePerAddress,
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
      print(
        command,
        {
          host: running.host,
          oneWay: running.oneWay,
          mutual: running.mutual,
          serverCertificate: running.serverCertificate,
        },
        `Certdesk broker: ${where(running.oneWay, 'one-way TLS')}, ${where(running.mutual, 'mutual TLS')}; SIGINT or SIGTERM stops it.`,
      )
      await untilStopped()
      await running.close()
    })
  broker.command('settings')
    .description('show or change the saved broker settings (used by the desktop app, and as defaults here)')
    .option('--host <host>', 'address to listen on')
    .option('--one-way-port <n>', 'one-way TLS port')
    .option('--mutual-port <n>', 'mutual TLS port')
    .option('--server-name <names...>', 'more names for the server certificate')
    .option('--max-packet-bytes <n>', 'largest MQTT packet a connected device may send (default 262144)')
    .option('--max-connections <n>', 'open connections over both listeners (default 1000)')
    .option('--connect-rate <n>', 'connections one address may open per 10 s (default 200)')
    .action(async (options: { host?: string; oneWayPort?: string; mutualPort?: string; serverName?: string[]; maxPacketBytes?: string; maxConnections?: string; connectRate?: string }, command: Command) => {
      const workspace = await open(command)
      const changes = {
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.oneWayPort === undefined ? {} : { oneWayPort: validatePort(parsePort(options.oneWayPort), 'one-way') }),
        ...(options.mutualPort === undefined ? {} : { mutualPort: validatePort(parsePort(options.mutualPort), 'mutual') }),
        ...(options.serverName === undefined ? {} : { extraNames: options.serverName }),
        ...(options.maxPacketBytes === undefined ? {} : { maxPacketBytes: parseCount(options.maxPacketBytes, 'bytes') }),
        ...(options.maxConnections === undefined ? {} : { maxConnections: parseCount(options.maxConnections, 'connections') }),
        ...(options.connectRate === undefined ? {} : { connectRatePerAddress: parseCount(options.connectRate, 'connections') }),
      }
      const settings = Object.keys(changes).length === 0 ? workspace.brokerSettings() : await workspace.updateBrokerSettings(changes)
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
    })
  const acl = broker.command('acl').description('the topic rules: who may publish and subscribe where (first match wins, no match denies)')
  const showRules = async (command: Command) => {
    const workspace = await open(command)
    const rules = workspace.topicRules()
    const isDefault = workspace.snapshot().broker?.topicRules === undefined
    print(
      command,
      rules,
      `${topicRulesTable(rules)}\nAnything no rule matches is denied.${isDefault ? ' These are the default rules.' : ''} Change them with: certdesk broker acl set --file rules.json (start from: certdesk broker acl --json > rules.json)`,
    )
  }
  acl.command('show', { isDefault: true })
    .description('show the rules in order (the default)')
    .action(async (_options: unknown, command: Command) => showRules(command))
  acl.command('set')
    .description('replace the rules with a JSON array of {action, topic, permission}; a running broker applies them within a second')
    .requiredOption('--file <file>', 'JSON file holding the rules')
    .action(async (options: { file: string }, command: Command) => {
      let text: string
      try {
        text = await readFile(resolve(options.file), 'utf8')
      } catch {
        throw invalidInput(`Cannot read ${options.file}.`)
      }
      let rules: unknown
      try {
        rules = JSON.parse(text)
      } catch (error) {
        throw invalidInput(`${options.file} is not valid JSON (${(error as Error).message}).`)
      }
      // The core checks every rule; nothing is saved unless all are valid.
      await (await open(command)).updateTopicRules(rules as TopicRule[])
      await showRules(command)
    })
  acl.command('reset')
    .description('go back to the default rules')
    .action(async (_options: unknown, command: Command) => {
      await (await open(command)).resetTopicRules()
      await showRules(command)
    })
  broker.command('log')
    .description('the connection log: every attempt, accepted or refused, with the reason')
    .action(async (_options: unknown, command: Command) => {
      const workspace = await open(command)
      const entries = await readConnectionLog(workspace.dataDir)
      print(command, entries, connectionLogTable(entries))
    })
  broker.command('export')
    .description('write the broker\'s TLS identity: broker_certs/server.crt, server.key, root_ca.crt')
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
      printExport(command, path, { path, serverCertificate: workspace.snapshot().broker?.serverCertificate }, `Wrote ${path}; it holds the broker's private key, keep it safe.`)
    })

  // ----- test -----
  program.command('test')
    .description("the seed's quick test (subscribe /hello, publish, receive) with a diagnosis on failure")
    .option('--device <id>', 'test this device of the registry (device ID or id)')
    .option('--port <n>', 'broker port (8883 one-way, 8884 mutual; default: from the device)')
    .option('--host <host>', 'broker host (default: the embedded broker)')
    .option('--cert <id>', 'which bound certificate to use, when several are')
    .option('--bundle <file.zip>', 'test with a bundle zip instead of the registry (for other brokers)')
    .option('--device-id <id>', 'with --bundle: the client_id')
    .option('--username <name>', 'with --bundle: the username')
    .option('--key-passphrase-env <var>', 'with --bundle: environment variable holding the key passphrase')
    .action(async (options: { device?: string; port?: string; host?: string; cert?: string; bundle?: string; deviceId?: string; username?: string; keyPassphraseEnv?: string }, command: Command) => {
      let profile
      let certdeskDataDir: string | undefined
      if (options.bundle !== undefined) {
        if (!options.deviceId || !options.port || !options.host) throw new UsageError('With --bundle, give --device-id, --port and --host too.')
        let zip: Buffer
        try {
          zip = await readFile(resolve(options.bundle))
        } catch {
          throw invalidInput(`Cannot read ${options.bundle}.`)
        }
        const passphrase = options.keyPassphraseEnv === undefined ? undefined : passphraseFrom({ passphraseEnv: options.keyPassphraseEnv }, io.env)
        profile = profileFromBundle(zip, { host: options.host, port: parsePort(options.port), clientId: options.deviceId, username: options.username, passphrase })
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
    })

  // ----- serve -----
  program.command('serve')
    .description('browser mode: the screens and the API on http://127.0.0.1, plus the embedded broker')
    .option('--port <n>', 'HTTP port (default: any free port)', '0')
    .option('--no-broker', 'do not start the embedded broker')
    .action(async (options: { port: string; broker: boolean }, command: Command) => {
      // Changes made in the page are the browser's, in the audit log.
      const workspace = await open(command, 'browser')
      const mode = await startBrowserMode(workspace, { port: parsePort(options.port), broker: options.broker })
      if (mode.broker.error && options.broker) io.stderr(`certdesk: ${mode.broker.error}\n`)
      print(
        command,
        { url: mode.server.url, port: mode.server.port, broker: mode.broker },
        `Certdesk is open at ${mode.server.url}\n(the token in the address is the key to this session; SIGINT or SIGTERM stops it)`,
      )
      await untilStopped()
      await mode.close()
    })

  return program
}

/**
 * Resolves on SIGINT or SIGTERM. The listeners stay installed (not `once`): atomically's exit
 * hook re-raises the signal after its own clean-up, and that second signal must not kill the
 * process while it closes.
 */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.on('SIGINT', () => resolve())
    process.on('SIGTERM', () => resolve())
  })
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
      return 1
    }
    const message = error instanceof Error ? error.message : String(error)
    io.stderr(`certdesk: unexpected error: ${escapeControlCharacters(message)}\n`)
    if (io.env.CERTDESK_DEBUG) io.stderr(`${(error as Error)?.stack ?? ''}\n`)
    return 70
  }
}
