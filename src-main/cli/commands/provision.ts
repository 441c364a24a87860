import { rmdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { isCertdeskError } from '../../core/errors'
import type { ProvisioningProblem } from '../../core/provisioning/input'
import { prepareOutputFolder } from '../../core/provisioning/output'
import type { ProvisioningPlan } from '../../core/provisioning/plan'
import type { ProvisioningProgress, ProvisioningResult } from '../../core/provisioning/provision'
import { assertExportTarget, writeExportFile } from '../../core/store/files'
import { type CliContext, type CliIo, ReportedFailure, UsageError, readInputFile } from '../context'
import { escapeControlCharacters } from '../output'

interface ProvisionCliOptions {
  csv?: string
  jsonl?: string
  out?: string
  zip?: string
  profile?: string
  dryRun?: boolean
  update?: boolean
  includeDeviceKeys?: boolean
  force?: boolean
}

const PHASE_WORDS: Record<ProvisioningProgress['phase'], string> = {
  checking: 'Checking the file',
  issuing: 'Issuing certificates',
  committing: 'Writing the registry',
  done: 'Done',
}

/**
 * Progress on stderr: a bar with rate and ETA on a terminal, a plain line per phase and per
 * tenth when not, one JSON object a line with --json (stdout keeps the one result value).
 */
function progressReporter(io: CliIo, mode: 'bar' | 'lines' | 'json') {
  let phase = ''
  let phaseStarted = Date.now()
  let lastDraw = 0
  let lastTenth = -1
  let barShown = false
  const clearBar = () => {
    if (barShown) io.stderr('\r\u001b[2K')
    barShown = false
  }
  const report = (progress: ProvisioningProgress) => {
    const now = Date.now()
    const newPhase = progress.phase !== phase
    if (newPhase) {
      phase = progress.phase
      phaseStarted = now
      lastTenth = -1
    }
    if (mode === 'json') {
      if (newPhase || now - lastDraw >= 200 || progress.done === progress.total) {
        lastDraw = now
        io.stderr(`${JSON.stringify({ type: 'progress', ...progress })}\n`)
      }
      return
    }
    if (progress.phase === 'done') return clearBar()
    if (mode === 'lines') {
      const tenth = progress.total > 0 ? Math.floor((progress.done * 10) / progress.total) : 0
      if (newPhase && progress.total === 0) io.stderr(`${PHASE_WORDS[progress.phase]}…\n`)
      else if (progress.total > 0 && tenth !== lastTenth) {
        lastTenth = tenth
        io.stderr(`${PHASE_WORDS[progress.phase]}: ${progress.done}/${progress.total} (${tenth * 10}%)\n`)
      }
      return
    }
    if (!newPhase && now - lastDraw < 100 && progress.done < progress.total) return
    lastDraw = now
    const width = 30
    const fraction = progress.total > 0 ? progress.done / progress.total : 0
    const filled = Math.round(fraction * width)
    const seconds = (now - phaseStarted) / 1000
    const rate = seconds > 0 ? progress.done / seconds : 0
    const eta = rate > 0 ? Math.ceil((progress.total - progress.done) / rate) : undefined
    const counts = progress.total > 0 ? ` ${progress.done}/${progress.total}  ${rate.toFixed(0)}/s  ETA ${eta ?? '?'}s` : ''
    const bar = progress.total > 0 ? ` [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${counts}` : '…'
    io.stderr(`\r\u001b[2K${PHASE_WORDS[progress.phase]}${bar}`)
    barShown = true
  }
  return { report, clearBar }
}

function problemLines(file: string, problems: readonly ProvisioningProblem[]): string {
  return problems
    .map((problem) => (problem.line === 0 ? `${problem.message}` : `${file} line ${problem.line}: ${problem.message}`))
    .join('\n')
}

/** Rows that met a device already in the registry: reported one by one (the first 20 in text). */
function existingRows(plan: { rows: readonly { line: number; deviceId: string; action: string }[] }): string {
  const met = plan.rows.filter((row) => row.action !== 'create')
  if (met.length === 0) return ''
  const shown = met
    .slice(0, 20)
    .map((row) => `  line ${row.line}: ${row.deviceId} ${row.action === 'skip' ? 'exists, skipped' : 'exists, updated'}`)
  const more = met.length > 20 ? [`  … and ${met.length - 20} more (the manifest lists them all)`] : []
  return `\n${[...shown, ...more].join('\n')}`
}

function summary(counts: ProvisioningPlan['counts']): string {
  return `${counts.create} created, ${counts.update} updated, ${counts.skip} skipped (already in the registry); ${counts.certificates} certificate(s) to issue, ${counts.bindings} to bind`
}

/** `certdesk provision`: devices, certificates and bindings from a CSV (or JSON lines) file. */
export function registerProvisionCommand(program: Command, context: CliContext): void {
  const { io, open, print, globals } = context
  program
    .command('provision')
    .description('create devices, their certificates and bindings from a CSV file, all or nothing, and write their bundles')
    .option('--csv <file>', 'the devices: a header row naming name, auth (token or cert), and optionally device_id, username, certificate')
    .option('--jsonl <file>', 'the devices as JSON lines instead: one object a line with the same fields')
    .option('--out <dir>', 'write <dir>/<device_id>/common_certs/… and manifest.csv (a new or empty folder)')
    .option('--zip <file>', 'write one zip instead: <device_id>.zip per certificate device, and manifest.csv')
    .option('--profile <name>', 'certificate profile for the new certificates (certdesk profile list)')
    .option('--dry-run', 'check the file and report what would be done; write nothing')
    .option('--update', 'update the name and authentication type of devices that exist (default: skip them)')
    .option('--include-device-keys', "add device-keys.csv with the new token devices' keys (mode 0600)")
    .option('--force', 'with --zip, replace the file if it exists')
    .action(async (options: ProvisionCliOptions, command: Command) => {
      if ((options.csv === undefined) === (options.jsonl === undefined))
        throw new UsageError('Name the file with --csv FILE or --jsonl FILE.')
      if (options.out !== undefined && options.zip !== undefined) throw new UsageError('Give --out or --zip, not both.')
      const file = (options.csv ?? options.jsonl) as string
      const format = options.jsonl === undefined ? 'csv' : 'jsonl'
      const json = Boolean(globals(command).json)
      const text = (await readInputFile(file)).toString('utf8')
      const workspace = await open(command)
      const runOptions = { format, profile: options.profile, update: options.update } as const
      const plan = workspace.previewProvisioning(text, runOptions)
      if (plan.problems.length > 0) {
        if (json) io.stdout(`${JSON.stringify({ ok: false, problems: plan.problems, counts: plan.counts }, null, 2)}\n`)
        else {
          io.stderr(`${escapeControlCharacters(problemLines(file, plan.problems))}\n`)
          io.stderr(`certdesk: ${plan.problems.length} problem(s) in ${file}; nothing was written.\n`)
        }
        throw new ReportedFailure()
      }
      if (options.dryRun) {
        print(
          command,
          { dryRun: true, counts: plan.counts, rows: plan.rows },
          `Dry run of ${file}: ${summary(plan.counts)}.${existingRows(plan)}`,
        )
        return
      }
      // Where the output goes is checked before anything is written.
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
      const target: { dir: string } | { zip: string } =
        options.zip !== undefined ? { zip: resolve(options.zip) } : { dir: resolve(options.out ?? `certdesk-provisioning-${stamp}`) }
      // Made (or checked writable) now: refused after the registry's write, the keys would be lost.
      const madeFolder = 'dir' in target ? await prepareOutputFolder(target.dir) : false
      if ('zip' in target) await assertExportTarget(target.zip, Boolean(options.force))

      const mode = json ? 'json' : io.stderrIsTerminal ? 'bar' : 'lines'
      const progress = progressReporter(io, mode)
      const controller = new AbortController()
      let committed = false
      const onSignal = () => {
        if (!committed) controller.abort()
        else io.stderr('\nThe registry is already written; finishing the bundles.\n')
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      let result: ProvisioningResult
      try {
        result = await workspace.provision(text, {
          ...runOptions,
          signal: controller.signal,
          onProgress: (step) => {
            if (step.phase === 'done') committed = true
            progress.report(step)
          },
        })
        committed = true
        if ('dir' in target) await workspace.deliverProvisioning(result, Boolean(options.includeDeviceKeys), { dir: target.dir })
        else
          await workspace.deliverProvisioning(result, Boolean(options.includeDeviceKeys), {
            deliver: async (zip) => {
              await writeExportFile(target.zip, zip, 0o600, true)
              return true
            },
          })
      } catch (error) {
        progress.clearBar()
        if (isCertdeskError(error) && error.code === 'CANCELLED') io.stderr('\n')
        // Nothing written: the folder made for the output goes again (it is still empty).
        if (!committed && madeFolder && 'dir' in target) await rmdir(target.dir).catch(() => undefined)
        throw error
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
      const where = 'dir' in target ? target.dir : target.zip
      const keys = options.includeDeviceKeys ? `, device-keys.csv holds ${result.deviceKeys.length} token device key(s)` : ''
      print(
        command,
        { counts: result.counts, output: where, rows: result.rows },
        `Provisioned ${file}: ${summary(result.counts).replace(' to issue', ' issued').replace(' to bind', ' bound')}.${existingRows({ rows: result.rows })}\n` +
          `Wrote ${result.bundles.length} bundle(s) and manifest.csv to ${where}${keys}.`,
      )
    })
}
