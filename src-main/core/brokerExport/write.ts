import { mkdir, open, rm, rmdir } from 'node:fs/promises'
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { prepareOutputFolder } from '../provisioning/output'
import { writeFailure } from '../store/files'
import type { BrokerExportFile } from './types'

/**
 * Writes an export into a new or empty folder: secret files (keys, password hashes) 0600, the
 * rest 0644, folders 0700. Never over a file that is there. A write that fails takes back what
 * this export wrote, so the folder is as it was (a half export would look like a whole one).
 */
export async function writeBrokerExport(dir: string, files: readonly BrokerExportFile[]): Promise<void> {
  await prepareOutputFolder(dir)
  // A generator names files relative to the folder, never above it.
  for (const file of files) {
    if (isAbsolute(file.path) || normalize(file.path).startsWith('..')) throw new Error(`export file outside its folder: ${file.path}`)
  }
  const madeFiles: string[] = []
  const madeFolders: string[] = []
  try {
    for (const file of files) {
      const path = join(dir, file.path)
      try {
        const first = await mkdir(dirname(path), { recursive: true, mode: 0o700 })
        // mkdir made every folder from the first it reports down to the file's: each holds only this export's files.
        if (first !== undefined) madeFolders.push(...foldersFrom(first, dirname(path)))
        // Created (never over a file), then written: a write that fails midway is this export's own half file.
        const handle = await open(path, 'wx', file.secret ? 0o600 : 0o644)
        madeFiles.push(path)
        try {
          await handle.writeFile(file.contents)
        } finally {
          await handle.close()
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CertdeskError('CONFLICT', message('file.exists', { path }))
        throw writeFailure(error, path)
      }
    }
  } catch (error) {
    // Only what this run made: its files, then its folders if nothing else is in them.
    for (const path of madeFiles) await rm(path, { force: true }).catch(() => undefined)
    for (const path of madeFolders.reverse()) await rmdir(path).catch(() => undefined)
    throw error
  }
}

/** `first`, then each folder below it down to `last` (which lies inside `first`). */
function foldersFrom(first: string, last: string): string[] {
  const folders = [first]
  for (const part of relative(first, last)
    .split(sep)
    .filter((part) => part !== ''))
    folders.push(join(folders[folders.length - 1], part))
  return folders
}
