import { resolve } from 'node:path'
import type { Command } from 'commander'
import { assertExportTarget } from '../../core/store/files'
import { DEFAULT_KEY_TYPE, parseKeyType } from '../../core/pki/keys'
import { DEFAULT_CRL_DAYS } from '../../core/registry/crl'
import { DEFAULT_ROOT_CA_COMMON_NAME, DEFAULT_ROOT_CA_DAYS } from '../../core/registry/rootCa'
import { Workspace } from '../../core/workspace'
import type { ImportedCaInput } from '../../core/pki/importedCa'
import {
  type CliContext,
  environmentValue,
  keyTypeOption,
  parseDays,
  passphraseFrom,
  readInputFile,
  UsageError,
  writeExport,
} from '../context'
import { describeRootCa } from '../output'

/** `certdesk ca`: create the folder and its root CA, show it, change how the keys are protected, export it. */
export function registerCaCommands(program: Command, context: CliContext): void {
  const { io, globals, dataDir, open, print, printExport } = context
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
      const view = workspace.getRootCa()
      print(command, view, `Created the root CA in ${view.dataDir}.\n${describeRootCa(view)}`)
    })
  ca.command('import')
    .description('create the data folder around an existing CA: its certificate and key (PEM), or a PKCS#12 file')
    .option('--cert <file>', 'the CA certificate (PEM); certificates after it are its chain up to the root')
    .option('--key <file>', "the CA's private key (PEM, encrypted or not)")
    .option('--key-passphrase-env <var>', 'environment variable holding the passphrase of an encrypted --key')
    .option('--chain <file>', "an intermediate CA's issuers up to the root (PEM), if not in --cert")
    .option('--pkcs12 <file>', 'the CA certificate, its key and chain as one PKCS#12 (.p12, .pfx) file')
    .option('--pkcs12-passphrase-env <var>', 'environment variable holding the passphrase of --pkcs12')
    .action(async (options: CaImportOptions, command: Command) => {
      const workspace = await Workspace.initialise(dataDir(command), {
        imported: await importInput(options, io.env),
        passphrase: passphraseFrom(globals(command), io.env),
        actor: 'cli',
      })
      const view = workspace.getRootCa()
      print(command, view, `Imported the CA into ${view.dataDir}.\n${describeRootCa(view)}`)
    })
  ca.command('show')
    .description('show the root CA and how its key is protected')
    .action(async (_options: unknown, command: Command) => {
      const view = (await open(command)).getRootCa()
      print(command, view, describeRootCa(view))
    })
  ca.command('set')
    .description('change the CA settings: the CRL distribution point written into device certificates issued from now on')
    .option('--crl-url <url>', 'http(s) URL where devices and brokers fetch the CRL (cRLDistributionPoints)')
    .option('--no-crl-url', 'stop writing a CRL distribution point into new certificates')
    .action(async (options: { crlUrl?: string | false }, command: Command) => {
      if (options.crlUrl === undefined) throw new UsageError('Nothing to change: give --crl-url URL or --no-crl-url.')
      const view = await (await open(command)).setCrlDistributionPoint(options.crlUrl === false ? null : options.crlUrl)
      print(
        command,
        view,
        view.crlDistributionPoint === undefined
          ? 'Certificates issued from now on carry no CRL distribution point; those issued before keep theirs.'
          : `Certificates issued from now on name ${view.crlDistributionPoint} as their CRL distribution point; those issued before are unchanged.`,
      )
    })
  ca.command('protect')
    .description('change how the keys are protected: a new passphrase, or a key file (the keys themselves stay)')
    .option('--new-passphrase-env <var>', 'environment variable holding the new passphrase (at least 8 characters)')
    .option('--key-file', 'keep the vault key in vault.key, readable by its owner only (no passphrase)')
    .action(async (options: { newPassphraseEnv?: string; keyFile?: boolean }, command: Command) => {
      if (Boolean(options.newPassphraseEnv) === Boolean(options.keyFile))
        throw new UsageError('Give --new-passphrase-env VAR or --key-file.')
      const passphrase =
        options.newPassphraseEnv === undefined ? undefined : environmentValue(io.env, options.newPassphraseEnv, '--new-passphrase-env')
      const state = await (await open(command)).changeKeyProtection(passphrase === undefined ? {} : { passphrase })
      print(
        command,
        state,
        `The keys are now protected by ${state.protection === 'passphrase' ? 'the new passphrase' : 'the key file vault.key'}.`,
      )
    })
  ca.command('export')
    .description('write the root certificate (PEM), e.g. root_ca.crt')
    .requiredOption('--out <file>', 'file to write')
    .option('--force', 'replace the file if it exists')
    .action(async (options: { out: string; force?: boolean }, command: Command) => {
      const workspace = await open(command)
      const path = await writeExport(io, options.out, await workspace.rootCertificatePem(), 0o644, Boolean(options.force))
      printExport(command, path, { path, fingerprint256: workspace.getRootCa().fingerprint256 }, `Wrote ${path}.`)
    })
  ca.command('crl')
    .description("write a new CRL (v2, signed by the CA) of the revoked certificates, e.g. for mosquitto's crlfile")
    .option('--out <file>', 'file to write (- for standard output)', '-')
    .option('--days <n>', 'days until its next update', String(DEFAULT_CRL_DAYS))
    .option('--der', 'DER instead of PEM')
    .option('--force', 'replace the file if it exists')
    .action(async (options: { out: string; days: string; der?: boolean; force?: boolean }, command: Command) => {
      const workspace = await open(command)
      // Each CRL uses up a number: a file that may not be replaced is refused before one is made.
      if (options.out !== '-') await assertExportTarget(resolve(options.out), Boolean(options.force))
      const crl = await workspace.generateCrl({ days: parseDays(options.days) })
      const path = await writeExport(io, options.out, options.der ? crl.der : crl.pem, 0o644, Boolean(options.force))
      const { crlNumber, revoked, thisUpdate, nextUpdate } = crl
      printExport(
        command,
        path,
        { path, crlNumber, revoked, thisUpdate, nextUpdate },
        `Wrote ${path}: CRL number ${crlNumber}, ${revoked} revoked certificate(s), next update by ${nextUpdate}.`,
      )
    })
}

interface CaImportOptions {
  cert?: string
  key?: string
  keyPassphraseEnv?: string
  chain?: string
  pkcs12?: string
  pkcs12PassphraseEnv?: string
}

/** The files `ca import` names, read; one of the two forms, never both. */
async function importInput(options: CaImportOptions, env: NodeJS.ProcessEnv): Promise<ImportedCaInput> {
  const pem =
    options.cert !== undefined || options.key !== undefined || options.chain !== undefined || options.keyPassphraseEnv !== undefined
  if (options.pkcs12 !== undefined) {
    if (pem) throw new UsageError('Give --pkcs12 FILE, or --cert FILE with --key FILE, not both.')
    const pkcs12Passphrase =
      options.pkcs12PassphraseEnv === undefined ? undefined : environmentValue(env, options.pkcs12PassphraseEnv, '--pkcs12-passphrase-env')
    return { pkcs12: await readInputFile(options.pkcs12), pkcs12Passphrase }
  }
  if (options.pkcs12PassphraseEnv !== undefined) throw new UsageError('--pkcs12-passphrase-env applies to --pkcs12 only.')
  if (options.cert === undefined || options.key === undefined) throw new UsageError('Give --cert FILE with --key FILE, or --pkcs12 FILE.')
  const keyPassphrase =
    options.keyPassphraseEnv === undefined ? undefined : environmentValue(env, options.keyPassphraseEnv, '--key-passphrase-env')
  return {
    certificatePem: (await readInputFile(options.cert)).toString('utf8'),
    privateKeyPem: (await readInputFile(options.key)).toString('utf8'),
    keyPassphrase,
    chainPem: options.chain === undefined ? undefined : (await readInputFile(options.chain)).toString('utf8'),
  }
}
