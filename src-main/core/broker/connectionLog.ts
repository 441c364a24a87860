import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Message, renderMessage } from '../messages'
import { writeFileAtomic } from '../store/files'
import type { ConnectionLogEntry } from './types'

export type { ConnectionLogEntry }

export const CONNECTION_LOG_FILE = 'broker-log.jsonl'
/** Entries kept; the file is compacted back to this when it reaches twice as many. */
export const CONNECTION_LOG_LIMIT = 1000
/**
 * Entries wait this long to be appended with the ones that follow: a connection storm costs
 * one open, write and close of the file per batch, not per connection (half the broker's CPU
 * per connection in a profile at 2,000 connections).
 */
const LOG_BATCH_MS = 25

/** A log entry's reason: the English sentence and the catalog's key and values, which a screen translates. */
export function logReason(reasonMessage: Message): Pick<ConnectionLogEntry, 'reason' | 'reasonMessage'> {
  return { reason: renderMessage(reasonMessage), reasonMessage }
}

/** How the broker's parts log: an entry without its time, which the broker stamps as it records. */
export type RecordLogEntry = (entry: Omit<ConnectionLogEntry, 'time'>) => void

/**
 * Every connection attempt, in memory (bounded) and in `broker-log.jsonl` in the data folder,
 * so `certdesk broker log` can read a broker running in another process.
 */
export class ConnectionLog {
  private readonly entries: ConnectionLogEntry[] = []
  private linesInFile = 0
  private writing: Promise<void> = Promise.resolve()
  /** Entries recorded while a write was under way: the next write appends them all at once. */
  private unwritten: ConnectionLogEntry[] = []
  private readonly listeners = new Set<(entry: ConnectionLogEntry) => void>()

  private constructor(private readonly dataDir: string) {}

  /** Opens the log of a data folder, carrying on from what earlier runs wrote. */
  static async open(dataDir: string): Promise<ConnectionLog> {
    const log = new ConnectionLog(dataDir)
    const earlier = await readConnectionLog(dataDir)
    log.entries.push(...earlier)
    log.linesInFile = earlier.length
    return log
  }

  record(entry: ConnectionLogEntry): void {
    this.entries.push(entry)
    if (this.entries.length > CONNECTION_LOG_LIMIT) this.entries.splice(0, this.entries.length - CONNECTION_LOG_LIMIT)
    for (const listener of this.listeners) listener(entry)
    // A connection storm is one append per batch, not an open, write and close per entry.
    this.unwritten.push(entry)
    if (this.unwritten.length > 1) return
    this.writing = this.writing
      .then(() => new Promise((resolve) => setTimeout(resolve, LOG_BATCH_MS)))
      .then(() => {
        const batch = this.unwritten
        this.unwritten = []
        return this.persist(batch)
      })
      .catch(() => undefined)
  }

  /** The newest entries, oldest first. */
  recent(): ConnectionLogEntry[] {
    return [...this.entries]
  }

  subscribe(listener: (entry: ConnectionLogEntry) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves when everything recorded so far is on disk, including entries recorded while it waits. */
  async flushed(): Promise<void> {
    // A socket closing as the broker stops may record after the wait began: wait for its batch too.
    let writing: Promise<void>
    do {
      writing = this.writing
      await writing
    } while (writing !== this.writing)
  }

  private async persist(batch: ConnectionLogEntry[]): Promise<void> {
    const path = join(this.dataDir, CONNECTION_LOG_FILE)
    await appendFile(path, batch.map((entry) => JSON.stringify(entry) + '\n').join(''), { mode: 0o600 })
    this.linesInFile += batch.length
    if (this.linesInFile >= 2 * CONNECTION_LOG_LIMIT) {
      const kept = (await readConnectionLog(this.dataDir)).slice(-CONNECTION_LOG_LIMIT)
      await writeFileAtomic(path, kept.map((e) => JSON.stringify(e) + '\n').join(''))
      this.linesInFile = kept.length
    }
  }
}

/** The log as written by any broker on this data folder; a torn last line is skipped. */
export async function readConnectionLog(dataDir: string): Promise<ConnectionLogEntry[]> {
  let text: string
  try {
    text = await readFile(join(dataDir, CONNECTION_LOG_FILE), 'utf8')
  } catch {
    return []
  }
  const entries: ConnectionLogEntry[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    try {
      entries.push(JSON.parse(line) as ConnectionLogEntry)
    } catch {
      // A line cut short by a crash mid-append: the rest of the log still reads.
    }
  }
  return entries.slice(-CONNECTION_LOG_LIMIT)
}
