import type * as CsvParse from 'csv-parse/sync'
import { lazyModule } from '../lazyModule'
import { type Message, renderMessage, message } from '../messages'

import { MAX_PROVISIONING_ROWS, PROVISIONING_COLUMNS, type ProvisioningColumn } from './columns'

// Loaded when a file is read: every other command starts without it.
const csvParse = lazyModule<typeof CsvParse>('csv-parse/sync')

const REQUIRED_COLUMNS: readonly ProvisioningColumn[] = ['name', 'auth']

export type InputFormat = 'csv' | 'jsonl'

/** One row of the file: its line (1 is the header of a CSV), and its fields as written (trimmed). */
export interface InputRow {
  line: number
  fields: Partial<Record<ProvisioningColumn, string>>
}

/** Something wrong with one line of the file, as a sentence of the catalog and in English. */
export interface ProvisioningProblem {
  line: number
  message: string
  messageKey: Message['key']
  params?: Message['params']
}

export function problemAt(line: number, sentence: Message): ProvisioningProblem {
  return {
    line,
    message: renderMessage(sentence),
    messageKey: sentence.key,
    ...(sentence.params === undefined ? {} : { params: sentence.params }),
  }
}

function checkColumns(columns: readonly string[], line: number): ProvisioningProblem[] {
  const problems: ProvisioningProblem[] = []
  for (const column of columns) {
    if (!(PROVISIONING_COLUMNS as readonly string[]).includes(column)) {
      problems.push(problemAt(line, message('provisioning.unknownColumn', { column, columns: PROVISIONING_COLUMNS.join(', ') })))
    }
  }
  for (const column of REQUIRED_COLUMNS) {
    if (!columns.includes(column)) problems.push(problemAt(line, message('provisioning.missingColumn', { column })))
  }
  return problems
}

/** Header names as operators write them: `Device ID`, `device-id` and `DEVICE_ID` all mean device_id. */
const headerName = (value: string) =>
  value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_')

/**
 * The header row's separator: a comma, or the semicolon or tab that spreadsheets in some
 * languages write. Decided once from the header, so a `;` inside a later name stays text.
 */
function delimiterOf(text: string): string {
  const header = text.slice(0, text.search(/\r?\n|$/))
  const count = (separator: string) => header.split(separator).length - 1
  return [',', ';', '\t'].reduce((best, separator) => (count(separator) > count(best) ? separator : best))
}

function readCsv(text: string): { rows: InputRow[]; problems: ProvisioningProblem[] } {
  let records: { record: Record<string, string>; info: { lines: number } }[]
  let header: string[] = []
  try {
    records = csvParse.parse(text, {
      bom: true,
      delimiter: delimiterOf(text),
      columns: (names: string[]) => (header = names.map(headerName)),
      info: true,
      // A short row (trailing empty columns left out, as spreadsheets do) reads as empty fields.
      relax_column_count_less: true,
      skip_empty_lines: true,
      trim: true,
    }) as typeof records
  } catch (error) {
    const line =
      error instanceof csvParse.CsvError && typeof (error as CsvParse.CsvError & { lines?: number }).lines === 'number'
        ? (error as CsvParse.CsvError & { lines: number }).lines
        : 1
    const reason = error instanceof Error ? error.message.replace(/\.$/, '') : String(error)
    return { rows: [], problems: [problemAt(line, message('provisioning.unreadable', { reason }))] }
  }
  if (header.length === 0) return { rows: [], problems: [problemAt(1, message('provisioning.noRows'))] }
  const problems = checkColumns(header, 1)
  // A header that is wrong would make every row wrong: its own problems are enough.
  if (problems.length > 0) return { rows: [], problems }
  const rows = records.map(({ record, info }) => ({ line: info.lines, fields: pickFields(record) }))
  return { rows, problems }
}

function pickFields(record: Record<string, unknown>): InputRow['fields'] {
  const fields: InputRow['fields'] = {}
  for (const column of PROVISIONING_COLUMNS) {
    const value = record[column]
    if (typeof value === 'string' && value.trim() !== '') fields[column] = value.trim()
  }
  return fields
}

function readJsonLines(text: string): { rows: InputRow[]; problems: ProvisioningProblem[] } {
  const rows: InputRow[] = []
  const problems: ProvisioningProblem[] = []
  text
    .replace(/^\ufeff/, '')
    .split(/\r?\n/)
    .forEach((content, index) => {
      const line = index + 1
      if (content.trim() === '') return
      let value: unknown
      try {
        value = JSON.parse(content)
      } catch (error) {
        problems.push(problemAt(line, message('provisioning.jsonInvalid', { reason: (error as Error).message })))
        return
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(problemAt(line, message('provisioning.notObject')))
        return
      }
      const record = Object.fromEntries(Object.entries(value).map(([key, field]) => [headerName(key), field]))
      const columnProblems = checkColumns(Object.keys(record), line)
      for (const column of PROVISIONING_COLUMNS) {
        const field = record[column]
        if (field !== undefined && field !== null && typeof field !== 'string') {
          columnProblems.push(problemAt(line, message('provisioning.fieldNotText', { column })))
        }
      }
      problems.push(...columnProblems.filter((problem) => problem.messageKey !== 'provisioning.missingColumn'))
      rows.push({ line, fields: pickFields(record) })
    })
  return { rows, problems }
}

/** The file's rows with their line numbers, and what stops it from being read at all. */
export function readProvisioningFile(text: string, format: InputFormat = 'csv'): { rows: InputRow[]; problems: ProvisioningProblem[] } {
  const read = format === 'jsonl' ? readJsonLines(text) : readCsv(text)
  if (read.problems.length === 0 && read.rows.length === 0) return { rows: [], problems: [problemAt(1, message('provisioning.noRows'))] }
  if (read.rows.length > MAX_PROVISIONING_ROWS) {
    return {
      rows: [],
      problems: [problemAt(1, message('provisioning.tooManyRows', { count: read.rows.length, max: MAX_PROVISIONING_ROWS }))],
    }
  }
  return read
}
