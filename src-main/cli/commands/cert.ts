import { type Command, Option } from 'commander'
import {
  type CertificateExportOptions,
  type ExportFormat,
  EXPORT_FILE_EXTENSIONS,
  EXPORT_FORMATS,
  KEY_FORMATS,
  parseExportFormat,
} from '../../core/bundles/certificateExports'
import { parseKeyType } from '../../core/pki/keys'
import { DEFAULT_DEVICE_CERTIFICATE_DAYS, REVOCATION_REASONS, parseRevocationReason } from '../../core/registry/certificates'
import { type CliContext, environmentValue, keyTypeOption, parseDays, readInputFile, UsageError, writeExport } from '../context'
import { certificateTable, describeCertificate } from '../output'
import { certificatesCsv } from '../../core/provisioning/tables'
import { portableFileName } from '../../core/fileNames'
import { expiringWithin, parseExpiryWindow } from '../../core/registry/expiry'

interface CreateOptions {
  name: string
  disabled?: boolean
  keyType?: string
  days?: string
  profile: string
  device?: string
}

interface RenewCliOptions {
  days?: string
  sameKey?: boolean
  revokeOld?: boolean
  name?: string
}

interface SignRequestOptions {
  csr: string
  name: string
  profile: string
  days?: string
  device?: string
  disabled?: boolean
}

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
    .option('--days <n>', `validity in days (default: the profile's, ${DEFAULT_DEVICE_CERTIFICATE_DAYS} for the default profile)`)
    .option('--profile <name>', 'certificate profile (certdesk profile list)', 'default')
    .option('--device <device>', 'bind it to this device (device ID); needed when the profile puts the device ID in the certificate')
    .action(async (options: CreateOptions, command: Command) => {
      const workspace = await open(command)
      const view = await workspace.issueDeviceCertificate({
        name: options.name,
        enabled: !options.disabled,
        keyType: options.keyType === undefined ? undefined : parseKeyType(options.keyType),
        days: options.days === undefined ? undefined : parseDays(options.days),
        profile: options.profile,
        device: options.device,
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
    .option(
      '--expiring-within <days>',
      'only those that expire within this many days (30d or 30) and have not yet; expired and revoked ones are left out',
    )
    .option('--csv', 'as a CSV table (id, name, cn, status, serial, fingerprint, validity, bound device IDs)')
    .action(async (options: { expiringWithin?: string; csv?: boolean }, command: Command) => {
      const windowDays = options.expiringWithin === undefined ? undefined : parseExpiryWindow(options.expiringWithin)
      const all = (await open(command)).listCertificates()
      const certificates = windowDays === undefined ? all : expiringWithin(all, windowDays)
      if (options.csv) return io.stdout(certificatesCsv(certificates))
      const empty = windowDays !== undefined && certificates.length === 0
      print(command, certificates, () => (empty ? `No certificate expires within ${windowDays} days.` : certificateTable(certificates)))
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
    .command('revoke')
    .argument('<cert>', 'certificate id or common name')
    .description('revoke a certificate for good (RFC 5280 reason); it stays listed, goes on the CRL, and the broker refuses it')
    .option('--reason <reason>', `why: ${REVOCATION_REASONS.join(', ')}`, 'unspecified')
    .action(async (reference: string, options: { reason: string }, command: Command) => {
      const reason = parseRevocationReason(options.reason)
      const view = await (await open(command)).revokeCertificate(reference, reason)
      print(
        command,
        view,
        `Revoked certificate ${view.id} (${reason}); publish a new CRL: certdesk ca crl --out crl.pem\n${describeCertificate(view)}`,
      )
    })
  cert
    .command('renew')
    .argument('<cert>', 'certificate id or common name')
    .description('issue its successor: same subject and extensions, a new serial and (by default) a new key, bound to the same devices')
    .option('--days <n>', "validity in days (default: the old certificate's)")
    .option('--same-key', 'certify the same key again (always so for a certificate signed from a device request)')
    .option('--revoke-old', 'revoke the old certificate as superseded in the same step')
    .option('--name <name>', 'name of the new certificate (default: it takes the old name, and the old one is renamed)')
    .action(async (reference: string, options: RenewCliOptions, command: Command) => {
      const view = await (
        await open(command)
      ).renewCertificate(reference, {
        days: options.days === undefined ? undefined : parseDays(options.days),
        sameKey: options.sameKey,
        revokeOld: options.revokeOld,
        name: options.name,
      })
      const next = view.hasPrivateKey
        ? `export its bundle now: certdesk cert export ${view.id} --out ${portableFileName(view.name)}.zip`
        : 'its key stays on the device'
      print(command, view, `Renewed as certificate ${view.id} (from ${view.renewedFrom}); ${next}\n${describeCertificate(view)}`)
    })
  cert
    .command('sign-csr')
    .description("sign a device's own certificate signing request (PKCS#10 PEM): Certdesk never holds its private key")
    .requiredOption('--csr <file>', 'the request, PEM (openssl req -new ...)')
    .requiredOption('--name <name>', 'name, unique (1-64 characters)')
    .option('--profile <name>', 'certificate profile: it decides subject and extensions, not the request', 'default')
    .option('--days <n>', "validity in days (default: the profile's)")
    .option('--device <device>', 'bind it to this device (device ID)')
    .option('--disabled', 'create it disabled')
    .action(async (options: SignRequestOptions, command: Command) => {
      const csr = (await readInputFile(options.csr)).toString('utf8')
      const signed = await (
        await open(command)
      ).signCertificateRequest({
        csr,
        name: options.name,
        profile: options.profile,
        days: options.days === undefined ? undefined : parseDays(options.days),
        device: options.device,
        enabled: !options.disabled,
      })
      const { certificate, request } = signed
      const asked = [request.requestedSubject || '(empty subject)', ...request.requestedExtensions].join(', ')
      print(
        command,
        signed,
        `Signed certificate ${certificate.id} for the device's own key (profile ${certificate.profile}).\n` +
          `The request asked for: ${asked}; only its public key is used, the profile decides the rest.\n` +
          `Its bundle (no private key): certdesk cert export ${certificate.id} --out ${portableFileName(certificate.name)}.zip\n` +
          describeCertificate(certificate),
      )
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
    .description('export a certificate: the bundle zip (common_certs/…), PEM, DER, the chain, PKCS#12 or its private key')
    .addOption(new Option('--format <format>', 'what to write').choices([...EXPORT_FORMATS]).default('zip'))
    .option('--out <file>', "file to write, - for standard output (default: the certificate's name with the format's extension)")
    .option('--force', 'replace the file if it exists')
    .option('--export-passphrase-env <var>', 'environment variable holding the passphrase for p12 or key')
    .option('--legacy', 'p12: 3DES and a SHA-1 MAC, for old Windows and Java key stores')
    .option('--name <friendly>', "p12: the friendly name (default: the certificate's name)")
    .option('--plain-key', 'key: write the private key unencrypted (needs --yes)')
    .option('--yes', 'confirm --plain-key')
    .action(async (reference: string, options: CertExportOptions, command: Command) => {
      const format = parseExportFormat(options.format)
      const exportOptions = certExportOptions(format, options, io.env)
      const workspace = await open(command)
      const certificate = workspace.getCertificate(reference)
      const out = options.out ?? `${portableFileName(certificate.name)}${EXPORT_FILE_EXTENSIONS[format]}`
      const withKey = KEY_FORMATS.includes(format) && certificate.hasPrivateKey
      let path = ''
      await workspace.exportCertificate(certificate.id, format, exportOptions, async (data) => {
        path = await writeExport(io, out, data, withKey ? 0o600 : 0o644, Boolean(options.force))
        return true
      })
      printExport(
        command,
        path,
        { path, certificate: certificate.id, format },
        withKey ? `Wrote ${path}; it holds a private key, keep it safe.` : `Wrote ${path}.`,
      )
    })
}

interface CertExportOptions {
  format: string
  out?: string
  force?: boolean
  exportPassphraseEnv?: string
  legacy?: boolean
  name?: string
  plainKey?: boolean
  yes?: boolean
}

/** Checks `cert export`'s options against its format before anything is read or written. */
function certExportOptions(format: ExportFormat, options: CertExportOptions, env: NodeJS.ProcessEnv): CertificateExportOptions {
  if ((options.legacy || options.name !== undefined) && format !== 'p12')
    throw new UsageError('--legacy and --name apply to --format p12 only.')
  if (options.plainKey && format !== 'key') throw new UsageError('--plain-key applies to --format key only.')
  if (options.plainKey && !options.yes) {
    throw new UsageError('A plain private key is readable by anyone who gets the file; add --yes to confirm --plain-key.')
  }
  if (options.plainKey && options.exportPassphraseEnv !== undefined) {
    throw new UsageError('Give --plain-key or --export-passphrase-env, not both.')
  }
  const needsPassphrase = format === 'p12' || (format === 'key' && !options.plainKey)
  if (!needsPassphrase) {
    if (options.exportPassphraseEnv !== undefined) throw new UsageError('--export-passphrase-env applies to --format p12 and key only.')
    return { plainKey: options.plainKey }
  }
  const variable = options.exportPassphraseEnv
  if (variable === undefined) {
    throw new UsageError(`--format ${format} needs --export-passphrase-env VAR, with the passphrase in the environment variable VAR.`)
  }
  const passphrase = environmentValue(env, variable, '--export-passphrase-env')
  return { passphrase, legacy: options.legacy, friendlyName: options.name }
}
