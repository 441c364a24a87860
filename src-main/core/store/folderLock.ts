import { createHash } from 'node:crypto'
import { readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type Lockfile from 'proper-lockfile'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { lazyModule } from '../lazyModule'

const lockfile = lazyModule<typeof Lockfile>('proper-lockfile')

export const LOCK_FILE = '.lock'
/** Who holds the lock: lets the next process clear a lock whose holder was killed (kill -9) at once. */
export const LOCK_OWNER_FILE = '.lock.owner'

interface LockOwner {
  pid: number
  host: string
  /** The lock directory's inode when it was taken: proves the owner file describes this lock. */
  ino: number
}

/**
 * Names this machine in files that say which process made them (staging folders, the init
 * marker): a process is judged dead only by the machine it ran on, never by another one sharing
 * the folder.
 */
export const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8)

/** True unless `pid` is known to be gone: only a process of this machine can be known gone. */
export function processOfThisHostIsGone(hostTag: string, pid: number): boolean {
  return hostTag === HOST_TAG && Number.isInteger(pid) && !processIsAlive(pid)
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, it is just not ours.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readOwner(dataDir: string): { owner: LockOwner; ino: number } | undefined {
  try {
    return {
      owner: JSON.parse(readFileSync(join(dataDir, LOCK_OWNER_FILE), 'utf8')) as LockOwner,
      ino: statSync(join(dataDir, LOCK_FILE)).ino,
    }
  } catch {
    return undefined
  }
}

/** True when the lock was taken on this machine by a process that no longer runs. */
export function lockHolderIsGone(dataDir: string): boolean {
  const found = readOwner(dataDir)
  return found !== undefined && found.owner.host === hostname() && found.owner.ino === found.ino && !processIsAlive(found.owner.pid)
}

/**
 * Removes the lock if the process that took it on this machine is gone. Without this the next
 * writer waits for proper-lockfile's staleness timeout (~10 s) after every crash.
 */
export function clearDeadLock(dataDir: string): boolean {
  if (!lockHolderIsGone(dataDir)) return false
  try {
    rmdirSync(join(dataDir, LOCK_FILE))
  } catch {
    return false
  }
  rmSync(join(dataDir, LOCK_OWNER_FILE), { force: true })
  return true
}

function describeLockFailure(dataDir: string, error: unknown): CertdeskError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ELOCKED') {
    return new CertdeskError('LOCKED', message('lock.held', { dataDir }), { cause: error })
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new CertdeskError('IO', message(code === 'EROFS' ? 'lock.readOnly' : 'lock.denied', { dataDir }), { cause: error })
  }
  return new CertdeskError('IO', message('lock.failed', { dataDir, reason: code ?? String(error) }), { cause: error })
}

/** How long a writer waits for another process's lock before giving up. */
const LOCK_WAIT_MS = 30_000

/**
 * Takes the lock, waiting only while another process holds it: any other failure (a read-only
 * or full file system, no permission) is reported at once instead of after the whole wait.
 */
async function acquire(dataDir: string, onCompromised: () => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (let attempt = 0; ; attempt++) {
    try {
      return await lockfile.lock(dataDir, {
        lockfilePath: join(dataDir, LOCK_FILE),
        realpath: false,
        stale: 10_000,
        update: 2_000,
        retries: 0,
        // A lock lost to a stall is reported by the write that follows it, not by a crash.
        onCompromised,
      })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED' || Date.now() > deadline) throw describeLockFailure(dataDir, error)
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * 1.3 ** attempt)))
    }
  }
}

/**
 * Runs `work` holding the data folder's lock, against every other Certdesk process. `stillHeld`
 * tells a writer, just before its commit point, whether the lock is still its own: a process
 * stalled past the lock's staleness (10 s: suspended, a very slow disk) may have lost it.
 */
export async function withFolderLock<T>(dataDir: string, work: (stillHeld: () => boolean) => Promise<T>): Promise<T> {
  clearDeadLock(dataDir)
  let compromised = false
  const release = await acquire(dataDir, () => (compromised = true))
  const ownerPath = join(dataDir, LOCK_OWNER_FILE)
  let ino: number | undefined
  try {
    ino = statSync(join(dataDir, LOCK_FILE)).ino
    const owner: LockOwner = { pid: process.pid, host: hostname(), ino }
    writeFileSync(ownerPath, JSON.stringify(owner), { mode: 0o600 })
  } catch {
    // Only a convenience for crash recovery; the lock itself holds.
  }
  const stillHeld = () => {
    if (compromised) return false
    try {
      const owner = JSON.parse(readFileSync(ownerPath, 'utf8')) as LockOwner
      return owner.pid === process.pid && owner.host === hostname() && statSync(join(dataDir, LOCK_FILE)).ino === ino
    } catch {
      return false
    }
  }
  try {
    return await work(stillHeld)
  } finally {
    // A lock taken over is the new holder's, and so is its owner file.
    if (!compromised) rmSync(ownerPath, { force: true })
    await release().catch(() => undefined)
  }
}
