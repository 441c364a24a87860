// The folder of an earlier export, read for `--only-changes-since`: every regular file by its
// path, after checking that it is a whole export for the same target.
import { lstat, readFile, readdir } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { CHANGES_FILE, EXPORTED_USERS, EXPORT_MARKER_FILES, type ExportFolderFiles, USER_FILES, textOf } from './changes'
import { BROKER_TARGET_NAMES, type BrokerTarget } from './types'

export async function readEarlierExport(dir: string, target: BrokerTarget): Promise<ExportFolderFiles> {
  const files = new Map<string, Buffer>()
  try {
    if (!(await lstat(dir)).isDirectory()) throw notAnExport(dir, target)
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      // Links and other special files are no part of what Certdesk writes: not followed.
      if (!entry.isFile()) continue
      const path = join(entry.parentPath, entry.name)
      files.set(relative(dir, path).split(sep).join('/'), await readFile(path))
    }
  } catch (error) {
    if (error instanceof CertdeskError) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notAnExport(dir, target)
    throw new CertdeskError('IO', message('brokerExport.earlierUnreadable', { path: dir, reason: code ?? String(error) }))
  }
  if (!files.has(EXPORT_MARKER_FILES[target])) throw notAnExport(dir, target)
  if (files.has(CHANGES_FILE)) throw new CertdeskError('INVALID_INPUT', message('brokerExport.earlierIsChanges', { path: dir }))
  try {
    EXPORTED_USERS[target](textOf(files))
  } catch (error) {
    const problem = error instanceof SyntaxError ? 'it is not valid JSON' : (error as Error).message
    throw new CertdeskError('INVALID_INPUT', message('brokerExport.earlierDamaged', { path: join(dir, USER_FILES[target]), problem }))
  }
  return files
}

function notAnExport(dir: string, target: BrokerTarget): CertdeskError {
  return new CertdeskError(
    'INVALID_INPUT',
    message('brokerExport.notEarlierExport', { path: dir, target: BROKER_TARGET_NAMES[target], marker: EXPORT_MARKER_FILES[target] }),
  )
}
