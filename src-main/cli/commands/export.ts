import { rm } from 'node:fs/promises'
import { existsSync, realpathSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { Command } from 'commander'
import { parseBrokerTarget, validateInstallDir } from '../../core/brokerExport/options'
import { BROKER_TARGETS, type BrokerExportFile } from '../../core/brokerExport/types'
import type { UserChanges } from '../../core/brokerExport/changes'
import { readEarlierExport } from '../../core/brokerExport/earlierExport'
import { prepareOutputFolder } from '../../core/provisioning/output'
import { writeBrokerExport } from '../../core/brokerExport/write'
import { type CliContext, UsageError, parsePort } from '../context'

interface ExportBrokerOptions {
  target: string
  out: string
  host?: string[]
  installDir?: string
  oneWayPort?: string
  mutualPort?: string
  onlyChangesSince?: string
}

/** Whether `path` is `folder` or lies inside it. */
const within = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep)
/** The path with links resolved, as far as it exists (a folder yet to be made keeps the rest as given). */
function realPath(path: string): string {
  let existing = path
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing)
  return join(realpathSync(existing), relative(existing, path))
}
const counted = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`

/** `certdesk export broker`: the fleet handed to a production broker (verb, then noun, like `step`). */
export function registerExportCommands(program: Command, context: CliContext): void {
  const { open, print } = context
  const exportCommand = program.command('export').description('write what another system needs to take over from Certdesk')
  exportCommand
    .command('broker')
    .description(
      'write the configuration, users, ACL, certificates and CRL a production broker needs, with a README saying how to apply them',
    )
    .requiredOption('--target <broker>', `the broker: ${BROKER_TARGETS.join(', ')}`)
    .requiredOption('--out <dir>', 'a new or empty folder to write into')
    .option('--host <names...>', "names for the broker's certificate (its DNS names or addresses)")
    .option('--install-dir <dir>', "where the folder will be on the broker's machine (the configuration names files there)")
    .option('--one-way-port <port>', 'the one-way TLS listener (default 8883)')
    .option('--mutual-port <port>', 'the mutual TLS listener (default 8884)')
    .option(
      '--only-changes-since <dir>',
      'write only the files that differ from the earlier export in <dir> (same target), with CHANGES.md naming the users added, changed and removed',
    )
    .action(async (options: ExportBrokerOptions, command: Command) => {
      const ports =
        options.oneWayPort === undefined && options.mutualPort === undefined
          ? undefined
          : { oneWay: parsePort(options.oneWayPort ?? '8883'), mutual: parsePort(options.mutualPort ?? '8884') }
      if (ports && ports.oneWay === ports.mutual) throw new UsageError('Give the one-way and the mutual listener different ports.')
      const target = parseBrokerTarget(options.target)
      const installDir = options.installDir === undefined ? undefined : validateInstallDir(options.installDir)
      const workspace = await open(command)
      const dir = resolve(options.out)
      const earlierDir = options.onlyChangesSince === undefined ? undefined : resolve(options.onlyChangesSince)
      // Nested, one would become part of the other: the next baseline would hold a folder of changes.
      if (earlierDir !== undefined && (within(realPath(dir), realPath(earlierDir)) || within(realPath(earlierDir), realPath(dir)))) {
        throw new UsageError(`Give --out a folder outside the earlier export ${earlierDir}, and not one that holds it.`)
      }
      const earlier = earlierDir === undefined ? undefined : await readEarlierExport(earlierDir, target)
      // Checked (and made) first: a folder that cannot take the export is refused before a CRL
      // number is used or a certificate issued.
      const madeFolder = await prepareOutputFolder(dir)
      const write = async (made: BrokerExportFile[]) => {
        await writeBrokerExport(dir, made)
        return true
      }
      // Left undefined when not given: a change set keeps the earlier export's.
      const exportOptions = { hosts: options.host, installDir, ports }
      let files: BrokerExportFile[]
      let users: UserChanges | undefined
      let gone: string[] = []
      try {
        if (earlier === undefined) files = await workspace.exportForBroker(target, exportOptions, write)
        else ({ files, users, gone } = await workspace.exportChangesForBroker(target, earlier, exportOptions, write))
      } catch (error) {
        if (madeFolder) await rm(dir, { recursive: true, force: true })
        throw error
      }
      // EMQX checks revocation only at the certificates' CRL distribution point: without one set
      // (`ca set --crl-url`), its mutual listener cannot check them and refuses every certificate.
      const crlUrlMissing = target === 'emqx' && !workspace.getRootCa().crlDistributionPoint
      const secrets = files.filter((file) => file.secret).map((file) => file.path)
      print(
        command,
        {
          target,
          dir,
          files: files.map((file) => ({ path: file.path, secret: file.secret })),
          ...(users ? { changesSince: earlierDir, users, gone } : {}),
          ...(crlUrlMissing ? { crlUrlMissing } : {}),
        },
        (users
          ? `Wrote ${counted(files.length - 1, 'changed file')} and CHANGES.md for ${target} to ${dir}, against ${earlierDir} ` +
            `(users: ${users.added.length} added, ${users.changed.length} with a new key, ${users.removed.length} removed); read CHANGES.md there.`
          : `Wrote ${files.length} files for ${target} to ${dir}; read README.md there.`) +
          (secrets.length > 0 ? ` Secret (mode 0600): ${secrets.join(', ')}.` : '') +
          (crlUrlMissing
            ? ' Note: this CA has no CRL distribution point, and EMQX checks revocation only there: set one with "certdesk ca set --crl-url URL" and reissue the certificates, or EMQX\'s mutual listener refuses them all.'
            : ''),
      )
    })
}
