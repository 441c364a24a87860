import type { Command } from 'commander'
import { parseKeyType } from '../../core/pki/keys'
import { DEFAULT_DEVICE_CERTIFICATE_DAYS } from '../../core/registry/certificates'
import { type CliContext, keyTypeOption, parseDays, UsageError, writeExport } from '../context'
import { certificateTable, describeCertificate } from '../output'
import { portableFileName } from '../../core/fileNames'

/** `certdesk cert`: device certificates (create, list, show, update, delete), their bindings and bundles. */
export function registerCertCommands(program: Command, context: CliContext): void {
  const { io, open, print, printExport } = context
  const cert = program.command('cert').description('device certificates, their bindings and bundles')
  cert
    .command('create')
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
        `Created certificate ${view.id}. Export its bundle now and keep it safe: certdesk cert export ${view.id} --out ${portableFileName(view.name)}.zip\n${describeCertificate(view)}`,
      )
    })
  cert
    .command('list')
    .description('list certificates')
    .action(async (_options: unknown, command: Command) => {
      const certificates = (await open(command)).listCertificates()
      print(command, certificates, certificateTable(certificates))
    })
  cert
    .command('show')
    .argument('<cert>', 'certificate id or common name')
    .description('show a certificate')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const workspace = await open(command)
      const view = workspace.getCertificate(reference)
      print(command, { ...view, certificatePem: await workspace.certificatePem(view.id) }, describeCertificate(view))
    })
  cert
    .command('update')
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
      const view = await (
        await open(command)
      ).updateCertificate(reference, {
        name: options.name,
        enabled: options.enable ? true : options.disable ? false : undefined,
      })
      print(command, view, `Updated certificate ${view.id}.\n${describeCertificate(view)}`)
    })
  cert
    .command('delete')
    .argument('<cert>', 'certificate id or common name')
    .description('delete a certificate (refused while devices are bound)')
    .action(async (reference: string, _options: unknown, command: Command) => {
      const view = await (await open(command)).deleteCertificate(reference)
      print(command, view, `Deleted certificate ${view.id}.`)
    })
  cert
    .command('bind')
    .argument('<cert>', 'certificate id or common name')
    .argument('<devices...>', 'device IDs (or ids) of devices with cert authentication')
    .description('bind devices to a certificate (all or none)')
    .action(async (reference: string, devices: string[], _options: unknown, command: Command) => {
      const view = await (await open(command)).bindDevices(reference, devices)
      print(command, view, `Bound ${devices.join(', ')} to ${view.id}.`)
    })
  cert
    .command('unbind')
    .argument('<cert>', 'certificate id or common name')
    .argument('<devices...>', 'device IDs (or ids)')
    .description('unbind devices from a certificate')
    .action(async (reference: string, devices: string[], _options: unknown, command: Command) => {
      const view = await (await open(command)).unbindDevices(reference, devices)
      print(command, view, `Unbound ${devices.join(', ')} from ${view.id}.`)
    })
  cert
    .command('export')
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
}
