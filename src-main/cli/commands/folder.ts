import type { Command } from 'commander'
import { checkDataFolder } from '../../core/store/doctor'
import { type CliContext, parseCount, passphraseFrom, ReportedFailure } from '../context'
import { auditTable } from '../output'

/** The commands about the data folder as a whole: `certdesk doctor` checks and mends it, `certdesk audit` reads its log. */
export function registerFolderCommands(program: Command, context: CliContext): void {
  const { io, globals, dataDir, open, print } = context

  // ----- doctor -----
  program
    .command('doctor')
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
      lines.push(
        report.healthy ? `The data folder ${report.dataDir} is healthy.` : `The data folder ${report.dataDir} has problems (above).`,
      )
      print(command, report, lines.join('\n'))
      if (!report.healthy) throw new ReportedFailure()
    })

  // ----- audit -----
  program
    .command('audit')
    .description('the audit log: every change to the registry, who made it (cli, app, browser) and when, hash-chained')
    .option('--verify', 'check the chain: exit 1 if an entry was edited or removed')
    .option('--last <n>', 'show only the newest N entries')
    .action(async (options: { verify?: boolean; last?: string }, command: Command) => {
      const { entries, verification } = (await open(command)).getAuditLog()
      const last = options.last === undefined ? undefined : parseCount(options.last, 'entries')
      const shown = last === undefined ? entries : last === 0 ? [] : entries.slice(-last)
      const verdict = verification.intact
        ? `The audit log is intact: ${verification.entries} entries, ending where the registry says it ends.`
        : `The audit log has been tampered with or damaged:\n${verification.problems.map((problem) => `- ${problem}`).join('\n')}`
      print(
        command,
        options.verify ? verification : shown,
        options.verify ? verdict : `${auditTable(shown)}${verification.intact ? '' : `\n${verdict}`}`,
      )
      if (options.verify && !verification.intact) throw new ReportedFailure()
    })
}
