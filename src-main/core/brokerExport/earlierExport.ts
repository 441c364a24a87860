// The folder of an earlier export, read for `--only-changes-since`: the files an export for the
// target writes, by path, after checking that the folder holds a whole one. Nothing else in it
// is read (an operator's backups, editor files).
import { readFile, readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import {
  CHANGES_FILE,
  type EarlierExport,
  EXPORTED_USERS,
  type ExportFolderFiles,
  USER_FILES,
  WHOLE_EXPORT_FILES,
  exportSettingsIn,
  isExportPath,
  textOf,
} from './changes'
import { BROKER_TARGET_NAMES, type BrokerTarget, EXPORT_SETTINGS_FILE } from './types'

/** Far above any export's file (definitions.json for 100,000 devices is ~40 MB): a bound on memory. */
const MAX_FILE_BYTES = 256 * 1024 * 1024

/**
 * The folder of an earlier whole export for `target`: its export files, and its users and
 * settings parsed once (the change set, the kept hashes and the kept settings all read them).
 */
export async function readEarlierExport(dir: string, target: BrokerTarget): Promise<EarlierExport> {
  const files = new Map<string, Buffer>()
  let hasChangesFile = false
  let reading = dir
  try {
    // stat, not lstat: an installed folder reached through a link (/etc/… → …) is read as itself.
    if (!(await stat(dir)).isDirectory()) throw notAWholeExport(dir, target, WHOLE_EXPORT_FILES[target][0])
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      // Links and other special files are no part of what Certdesk writes: not followed.
      if (!entry.isFile()) continue
      reading = join(entry.parentPath, entry.name)
      const path = relative(dir, reading).split(sep).join('/')
      if (path === CHANGES_FILE) hasChangesFile = true
      if (!isExportPath(target, path)) continue
      if ((await stat(reading)).size > MAX_FILE_BYTES) {
        throw new CertdeskError(
          'INVALID_INPUT',
          message('brokerExport.earlierDamaged', { path: reading, problem: 'it is larger than 256 MiB' }),
        )
      }
      files.set(path, await readFile(reading))
    }
  } catch (error) {
    if (error instanceof CertdeskError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && reading === dir)
      throw new CertdeskError('INVALID_INPUT', message('brokerExport.earlierMissing', { path: dir }))
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notAWholeExport(dir, target, WHOLE_EXPORT_FILES[target][0])
    throw new CertdeskError('IO', message('brokerExport.earlierUnreadable', { path: reading, reason: code ?? String(error) }))
  }
  return earlierExportOf(dir, files, target, { holdsChangesFile: hasChangesFile })
}

/** An earlier export from its files by path: checked whole, its users and settings parsed. */
export function earlierExportOf(
  dir: string,
  files: ExportFolderFiles,
  target: BrokerTarget,
  { holdsChangesFile = false } = {},
): EarlierExport {
  const missing = WHOLE_EXPORT_FILES[target].find((path) => !files.has(path))
  if (missing !== undefined) {
    // A folder of changes lacks what did not change; a whole export with the changes copied over it is complete.
    if (holdsChangesFile) throw new CertdeskError('INVALID_INPUT', message('brokerExport.earlierIsChanges', { path: dir }))
    throw notAWholeExport(dir, target, missing)
  }
  // The files read to compare users and to keep settings: damaged, they are named in one sentence.
  const parsed = <T>(path: string, read: () => T): T => {
    try {
      return read()
    } catch (error) {
      const problem = error instanceof SyntaxError ? 'it is not valid JSON' : (error as Error).message
      throw new CertdeskError('INVALID_INPUT', message('brokerExport.earlierDamaged', { path: join(dir, path), problem }))
    }
  }
  return {
    dir,
    files,
    users: parsed(USER_FILES[target], () => EXPORTED_USERS[target](textOf(files))),
    settings: parsed(EXPORT_SETTINGS_FILE, () => exportSettingsIn(files, target)),
  }
}

function notAWholeExport(dir: string, target: BrokerTarget, missing: string): CertdeskError {
  return new CertdeskError(
    'INVALID_INPUT',
    message('brokerExport.notEarlierExport', { path: dir, target: BROKER_TARGET_NAMES[target], marker: missing }),
  )
}
