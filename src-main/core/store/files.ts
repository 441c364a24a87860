import { randomBytes } from 'node:crypto'
import { lstat, mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, basename } from 'node:path'
import { CertdeskError } from '../errors'
import { type Message, message } from '../messages'

/** One sentence for a failed write, naming the file and the cause an operator can act on. */
export function writeFailure(error: unknown, path: string): CertdeskError {
  if (error instanceof CertdeskError) return error
  const code = (error as NodeJS.ErrnoException)?.code
  const reasons: Record<string, Message> = {
    ENOSPC: message('file.diskFull', { path }),
    EDQUOT: message('file.quotaFull', { path }),
    EROFS: message('file.readOnly', { path }),
    EACCES: message('file.denied', { path }),
    EPERM: message('file.denied', { path }),
    EISDIR: message('file.writeIsFolder', { path }),
    ENOTDIR: message('file.partIsFile', { path }),
    ENOENT: message('file.writeNoFolder', { folder: dirname(path) }),
    EMFILE: message('file.tooManyOpen', { path }),
  }
  const reason =
    (code && Object.hasOwn(reasons, code) ? reasons[code] : undefined) ??
    message('file.writeFailed', { path, reason: code ?? String(error) })
  return new CertdeskError('IO', reason, { cause: error })
}

/**
 * Writes through a temporary file in the same folder, flushed to disk, then renamed over the
 * target: a reader sees the old file or the new one, never half of one, and a failed write
 * (full disk, read-only file system) leaves no temporary file behind.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const handle = await open(temporary, 'wx', mode)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined)
    throw writeFailure(error, path)
  }
}

export async function ensurePrivateDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw writeFailure(error, path)
  }
}

/**
 * Writes an export (a bundle, a certificate) to a path an operator chose: a new file, or with
 * `replace` an existing regular file. Never a folder, a device (`/dev/null`), a pipe or a link,
 * which a rename would replace with a key bundle.
 */
export async function writeExportFile(path: string, data: string | Uint8Array, mode: number, replace: boolean): Promise<void> {
  await assertExportTarget(path, replace)
  await writeFileAtomic(path, data, mode)
}

/**
 * The checks `writeExportFile` makes before writing, on their own: for an export whose making
 * uses something up (a CRL number), so a refusal comes before it, not after.
 */
export async function assertExportTarget(path: string, replace: boolean): Promise<void> {
  let stats
  try {
    stats = await lstat(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw writeFailure(error, path)
  }
  if (stats !== undefined) {
    if (!stats.isFile()) {
      const kind = stats.isDirectory() ? 'file.isFolder' : stats.isSymbolicLink() ? 'file.isSymbolicLink' : 'file.isSpecial'
      throw new CertdeskError('INVALID_INPUT', message(kind, { path }))
    }
    if (!replace) throw new CertdeskError('CONFLICT', message('file.exists', { path }))
  }
  try {
    if (!(await stat(dirname(path))).isDirectory()) throw new Error('not a folder')
  } catch (error) {
    throw new CertdeskError('INVALID_INPUT', message('file.noFolder', { folder: dirname(path) }), { cause: error })
  }
}
