import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, normalize } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { prepareOutputFolder } from '../provisioning/output'
import { writeFailure } from '../store/files'
import type { BrokerExportFile } from './types'

/**
 * Writes an export into a new or empty folder: secret files (keys, password hashes) 0600, the
 * rest 0644, folders 0700. Never over a file that is there.
 */
export async function writeBrokerExport(dir: string, files: readonly BrokerExportFile[]): Promise<void> {
  await prepareOutputFolder(dir)
  // A generator names files relative to the folder, never above it.
  for (const file of files) {
    if (isAbsolute(file.path) || normalize(file.path).startsWith('..')) throw new Error(`export file outside its folder: ${file.path}`)
  }
  for (const file of files) {
    const path = join(dir, file.path)
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 })
      await writeFile(path, file.contents, { mode: file.secret ? 0o600 : 0o644, flag: 'wx' })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CertdeskError('CONFLICT', message('file.exists', { path }))
      throw writeFailure(error, path)
    }
  }
}
