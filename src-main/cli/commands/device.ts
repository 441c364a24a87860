import type { Command } from 'commander'
import { isCertdeskError } from '../../core/errors'
import { parseAuthType } from '../../core/registry/devices'
import { devicesCsv } from '../../core/provisioning/tables'
import { type CliContext, UsageError, writeExport } from '../context'
import { describeDevice, deviceTable } from '../output'

/** `certdesk device`: create, list, show, update, regenerate-key, delete. */
export function registerDeviceCommands(program: Command, context: CliContext): void {
  const { io, open, print, printExport } = context
  const device = program.command('device').description('devices: device ID, username, device key, authentication type')
  device
    .command('create')
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
  device
    .command('list')
    .description('list devices')
    .action(async (_options: unknown, command: Command) => {
      const devices = (await open(command)).listDevices()
      print(command, devices, () => deviceTable(devices))
    })
  device
    .command('export')
    .description('the devices as a CSV table: device ID, name, username, auth, bound certificates')
    .option('--csv', 'as CSV (the only format, and the default)')
    .option('--out <file>', 'write the table to this file (default: standard output)', '-')
    .option('--include-device-keys', 'add a device_key column with each device key (the file is then written 0600)')
    .option('--force', 'replace the file if it exists')
    .action(async (options: { out: string; includeDeviceKeys?: boolean; force?: boolean }, command: Command) => {
      const workspace = await open(command)
      const devices = workspace.listDevices()
      const keys = options.includeDeviceKeys ? await workspace.exportDeviceKeys() : undefined
      const table = devicesCsv(devices, workspace.listCertificates(), keys)
      if (options.out === '-') return io.stdout(table)
      const path = await writeExport(io, options.out, table, keys ? 0o600 : 0o644, Boolean(options.force))
      printExport(command, path, { path, devices: devices.length }, `Wrote ${path} (${devices.length} devices).`)
    })
  device
    .command('show')
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
  device
    .command('update')
    .argument('<device>', 'id or device ID')
    .description('rename a device or change its authentication type')
    .option('--name <name>', 'new display name')
    .option('--auth <type>', 'token or cert')
    .action(async (reference: string, options: { name?: string; auth?: string }, command: Command) => {
      if (options.name === undefined && options.auth === undefined) throw new UsageError('Nothing to change: give --name or --auth.')
      const view = await (
        await open(command)
      ).updateDevice(reference, {
        name: options.name,
        authType: options.auth === undefined ? undefined : parseAuthType(options.auth),
      })
      print(command, view, `Updated device ${view.deviceId}.`)
    })
  device
    .command('regenerate-key')
    .argument('<device>', 'id or device ID')
    .description('replace the device key (the old one stops working)')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const view = await (await open(command)).regenerateDeviceKey(reference)
      print(command, view, `New device key for ${view.deviceId}: ${view.deviceKey}`)
    })
  device
    .command('delete')
    .argument('<device>', 'id or device ID')
    .description('delete a device and its bindings')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const view = await (await open(command)).deleteDevice(reference)
      print(command, view, `Deleted device ${view.deviceId}.`)
    })
}
