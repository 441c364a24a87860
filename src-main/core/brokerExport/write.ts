import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, normalize } from 'node:path'
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
  const written: string[] = []
  try {
    for (const file of files) {
      const path = join(dir, file.path)
      try {
        // The first folder mkdir made (if any) holds only what this export puts in it.
        const madeFolder = await mkdir(dirname(path), { recursive: true, mode: 0o700 })
        if (madeFolder !== undefined) written.push(madeFolder)
        await writeFile(path, file.contents, { mode: file.secret ? 0o600 : 0o644, flag: 'wx' })
        written.push(path)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CertdeskError('CONFLICT', message('file.exists', { path }))
        throw writeFailure(error, path)
      }
    }
  } catch (error) {
    for (const path of written.reverse()) await rm(path, { recursive: true, force: true }).catch(() => undefined)
    throw error
  }
}
