import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, truncateSync, writeSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { type Message, message, renderMessage } from '../messages'
import { writeFailure } from './files'
import type { AuditActor, AuditEntry, AuditHead, AuditVerification } from './schema'

export type { AuditActor, AuditEntry, AuditHead, AuditVerification }

export const AUDIT_FILE = 'audit.jsonl'
/** The `prev` of the first entry. */
const GENESIS = '0'.repeat(64)

/** What a Workspace operation says about itself; `target` may be read from the operation's result. */
export interface AuditEvent {
  action: string
  target?: string | ((result: unknown) => string)
  detail?: Record<string, unknown>
}

/**
 * The operation being carried out, for the store to record with the change it writes. Carried
 * through async calls so the core's registry functions need not pass it along by hand.
 */
export const auditContext = new AsyncLocalStorage<AuditEvent>()

function operatingSystemUser(): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, time, actor, user, action, target, detail, prev } = entry
  return createHash('sha256').update(JSON.stringify({ seq, time, actor, user, action, target, detail, prev })).digest('hex')
}

/**
 * Appends the entry for one change, chained to the previous one, flushed before the index that
 * records the new head is written. Called by the store under the folder lock.
 */
export function appendAuditEntry(
  dataDir: string,
  head: AuditHead | undefined,
  actor: AuditActor,
  event: AuditEvent,
  result: unknown,
): AuditHead & { undo(): void } {
  const path = join(dataDir, AUDIT_FILE)
  const previous = chainBase(path, head)
  const detail =
    event.detail && JSON.stringify(event.detail).length > MAX_DETAIL_CHARACTERS
      ? { summarised: true, fields: Object.keys(event.detail) }
      : event.detail
  const base = {
    seq: previous.seq + 1,
    time: new Date().toISOString(),
    actor,
    user: operatingSystemUser(),
    action: event.action,
    target: typeof event.target === 'function' ? event.target(result) : (event.target ?? ''),
    ...(detail ? { detail } : {}),
    prev: previous.hash,
  }
  const entry: AuditEntry = { ...base, hash: entryHash(base) }
  let sizeBefore = 0
  try {
    const descriptor = openSync(path, 'a', 0o600)
    try {
      sizeBefore = fstatSync(descriptor).size
      writeSync(descriptor, `${JSON.stringify(entry)}\n`)
      fsyncSync(descriptor)
    } catch (error) {
      ftruncateSync(descriptor, sizeBefore)
      throw error
    } finally {
      closeSync(descriptor)
    }
  } catch (error) {
    throw writeFailure(error, path)
  }
  return {
    seq: entry.seq,
    hash: entry.hash,
    // The index could not be written after all (a full disk): the change did not happen, so its entry goes.
    undo: () => truncateSync(path, sizeBefore),
  }
}

/** Long details (a batch of thousands) are summarised: an entry stays one short line. */
const MAX_DETAIL_CHARACTERS = 4096
const TAIL_BYTES = 64 * 1024

/**
 * What the next entry chains to: the log's last entry. A process killed after writing its entry
 * but before its index leaves the log one entry past the index's head; chaining to the log (not
 * the head) keeps the chain whole. A half-written last line (killed mid-write) is cut off. A log
 * shorter than the head (entries removed) chains to the head, and verification reports the gap.
 */
function chainBase(path: string, head: AuditHead | undefined): AuditHead {
  const fromHead = head ?? { seq: 0, hash: GENESIS }
  let descriptor: number
  try {
    descriptor = openSync(path, 'r+')
  } catch {
    return fromHead
  }
  try {
    const size = fstatSync(descriptor).size
    const length = Math.min(size, TAIL_BYTES)
    const tail = Buffer.alloc(length)
    readSync(descriptor, tail, 0, length, size - length)
    // Cut in bytes, not characters: the tail may begin in the middle of a character.
    let whole = tail
    if (size > 0 && tail.at(-1) !== 0x0a) {
      const cut = tail.lastIndexOf(0x0a) + 1
      ftruncateSync(descriptor, size - length + cut)
      whole = tail.subarray(0, cut)
    }
    const last = whole.toString('utf8').trimEnd().split('\n').at(-1)
    if (!last) return fromHead
    const entry = JSON.parse(last) as AuditEntry
    return typeof entry.seq === 'number' && entry.seq >= fromHead.seq && typeof entry.hash === 'string'
      ? { seq: entry.seq, hash: entry.hash }
      : fromHead
  } catch {
    return fromHead
  } finally {
    closeSync(descriptor)
  }
}

/** The log as written (unparsable lines are reported by `verifyAuditLog`, skipped here). */
export function readAuditLog(dataDir: string): AuditEntry[] {
  let text: string
  try {
    text = readFileSync(join(dataDir, AUDIT_FILE), 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditEntry]
      } catch {
        return []
      }
    })
}

/**
 * Recomputes the chain: an edited entry breaks its own hash, a removed one breaks the next
 * entry's link, and entries removed from the end fall short of the head the index records.
 * (Whoever can rewrite both the log and the index can rewrite history; the README says so.)
 */
export function verifyAuditLog(dataDir: string, head: AuditHead | undefined): AuditVerification {
  let text = ''
  try {
    text = readFileSync(join(dataDir, AUDIT_FILE), 'utf8')
  } catch {
    // No log yet.
  }
  const problems: Message[] = []
  let previous = { seq: 0, hash: GENESIS }
  let count = 0
  let headSeen = head === undefined
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return
    let entry: AuditEntry
    try {
      entry = JSON.parse(line) as AuditEntry
    } catch {
      problems.push(message('audit.unreadableLine', { line: index + 1 }))
      return
    }
    count += 1
    const { hash, ...rest } = entry
    const at = { seq: entry.seq, line: index + 1 }
    if (entryHash(rest) !== hash) problems.push(message('audit.edited', at))
    if (entry.seq !== previous.seq + 1)
      problems.push(message('audit.missing', { from: previous.seq + 1, to: entry.seq - 1, line: at.line }))
    else if (entry.prev !== previous.hash) problems.push(message('audit.outOfChain', at))
    if (head && entry.seq === head.seq) {
      headSeen = true
      if (hash !== head.hash) problems.push(message('audit.notLatest', { seq: entry.seq }))
    }
    previous = { seq: entry.seq, hash }
  })
  if (!headSeen && head) problems.push(message('audit.truncated', { seq: previous.seq, recorded: head.seq }))
  const found = { intact: problems.length === 0, entries: count, problems: problems.map(renderMessage) }
  return problems.length === 0 ? found : { ...found, problemMessages: problems }
}
