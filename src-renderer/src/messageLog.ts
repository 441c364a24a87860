import type { TesterMessage } from '../../src-main/contract/types'

export interface LoggedMessage extends TesterMessage {
  /** Increasing number, stable across drops and clears: a row key. */
  seq: number
}

/**
 * The tester's message log: a ring buffer of the newest `capacity` messages. A flood of 100,000
 * messages costs O(1) per message and a fixed amount of memory; the older ones drop out and are
 * counted, so the screen can say how many. Plain data: the page keeps it out of Vue's reactivity.
 */
export class MessageLog {
  private readonly buffer: (LoggedMessage | undefined)[]
  private start = 0
  private size = 0
  private nextSeq = 0
  /** Messages that fell out of the kept window since the last clear. */
  dropped = 0
  /** Incoming messages since the last clear, kept or not. */
  received = 0

  constructor(readonly capacity = 10_000) {
    this.buffer = new Array(capacity)
  }

  get length(): number {
    return this.size
  }

  /** The `seq` of the oldest kept message (equal to `endSeq` when the log is empty). */
  get firstSeq(): number {
    return this.nextSeq - this.size
  }

  /** One past the newest message's `seq`. */
  get endSeq(): number {
    return this.nextSeq
  }

  /** The `index`th kept message, oldest first. */
  at(index: number): LoggedMessage | undefined {
    if (index < 0 || index >= this.size) return undefined
    return this.buffer[(this.start + index) % this.capacity]
  }

  /** A kept message by its number; undefined once it has dropped out. */
  bySeq(seq: number): LoggedMessage | undefined {
    return this.at(seq - this.firstSeq)
  }

  push(messages: readonly TesterMessage[]): void {
    for (const message of messages) {
      const logged = { ...message, seq: this.nextSeq++ }
      if (message.direction === 'in') this.received += 1
      if (this.size < this.capacity) {
        this.buffer[(this.start + this.size) % this.capacity] = logged
        this.size += 1
      } else {
        this.buffer[this.start] = logged
        this.start = (this.start + 1) % this.capacity
        this.dropped += 1
      }
    }
  }

  clear(): void {
    this.buffer.fill(undefined)
    this.start = 0
    this.size = 0
    this.dropped = 0
    this.received = 0
  }

  /** Oldest first, as exported. */
  toArray(): TesterMessage[] {
    const all: TesterMessage[] = []
    for (let i = 0; i < this.size; i++) {
      const { seq: _seq, ...message } = this.buffer[(this.start + i) % this.capacity] as LoggedMessage
      all.push(message)
    }
    return all
  }
}

/** Rows as a list shows them: a fixed range, oldest first, that later arrivals do not move. */
export interface LogRows {
  readonly length: number
  at(index: number): LoggedMessage | undefined
}

/** A range of `items` fixed now: the array is only ever appended to or replaced, never shifted. */
function fixedRange(items: readonly LoggedMessage[], start: number, length: number): LogRows {
  return { length, at: (index) => (index >= 0 && index < length ? items[start + index] : undefined) }
}

export const NO_ROWS: LogRows = fixedRange([], 0, 0)

/** How many messages are looked at between two looks at the clock while filtering. */
const SCAN_STEP = 256

/**
 * What the log shows: the kept messages that match the filter (every one without a filter),
 * oldest first, kept current as messages arrive and drop out. Filtering looks at each message once
 * (its lower-case text is computed once and cached), and a new filter is applied to the whole kept
 * window a time slice at a time (`sync(budgetMs)`), so a search over 10,000 messages never
 * blocks a frame.
 */
export class LogView {
  private needle = ''
  private matches: LoggedMessage[] = []
  private head = 0
  /** The next `seq` to look at. */
  private scannedSeq: number

  constructor(private readonly log: MessageLog) {
    this.scannedSeq = log.firstSeq
  }

  /** The filter in effect, normalised (trimmed, lower case). */
  get filter(): string {
    return this.needle
  }

  /** Looks again from the oldest kept message; `sync` finds the matches. */
  setFilter(text: string): void {
    this.needle = normaliseFilter(text)
    this.matches = []
    this.head = 0
    this.scannedSeq = this.log.firstSeq
  }

  /** Whether messages are still to be looked at. */
  get pending(): boolean {
    return this.scannedSeq < this.log.endSeq
  }

  /**
   * Forgets matches that dropped out of the log and looks at new messages, for about `budgetMs`
   * at most; true once it has caught up with the log (otherwise call again, next frame).
   */
  sync(budgetMs = Infinity, clock: () => number = () => performance.now()): boolean {
    const first = this.log.firstSeq
    while (this.head < this.matches.length && (this.matches[this.head] as LoggedMessage).seq < first) this.head += 1
    // Make room at the front now and then (a new array: ranges handed out keep the old one).
    if (this.head > 1024 && this.head * 2 > this.matches.length) {
      this.matches = this.matches.slice(this.head)
      this.head = 0
    }
    if (this.scannedSeq < first) this.scannedSeq = first
    const end = this.log.endSeq
    const deadline = budgetMs === Infinity ? Infinity : clock() + budgetMs
    while (this.scannedSeq < end) {
      const stop = Math.min(end, this.scannedSeq + SCAN_STEP)
      for (; this.scannedSeq < stop; this.scannedSeq++) {
        const message = this.log.bySeq(this.scannedSeq) as LoggedMessage
        if (matchesFilter(message, this.needle)) this.matches.push(message)
      }
      if (this.scannedSeq < end && clock() >= deadline) return false
    }
    return true
  }

  /** The matches found so far, as a range that stays as it is while the log moves on. */
  rows(): LogRows {
    return fixedRange(this.matches, this.head, this.matches.length - this.head)
  }
}

/** A filter as typed, in the form `matchesFilter` takes. */
function normaliseFilter(text: string): string {
  return text.trim().toLowerCase()
}

/** Whether a message's topic or payload (as text) holds the normalised `needle`; '' matches all. */
export function matchesFilter(message: LoggedMessage, needle: string): boolean {
  return needle === '' || searchTextOf(message).includes(needle)
}

/** How much of a payload is searched and previewed: enough for any telemetry message. */
const TEXT_LIMIT_BYTES = 64 * 1024
const PREVIEW_CHARS = 300

const searchTexts = new WeakMap<LoggedMessage, string>()
const previews = new WeakMap<LoggedMessage, string>()

function payloadBytes(payloadBase64: string, limit = Infinity): Uint8Array {
  // Four base64 characters are three bytes: cut on a boundary of four.
  const cut = limit === Infinity ? payloadBase64 : payloadBase64.slice(0, Math.ceil(limit / 3) * 4)
  const binary = atob(cut)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** The lower-case topic and payload text a filter looks in, computed once per message. */
export function searchTextOf(message: LoggedMessage): string {
  let text = searchTexts.get(message)
  if (text === undefined) {
    const payload = new TextDecoder().decode(payloadBytes(message.payloadBase64, TEXT_LIMIT_BYTES))
    text = `${message.topic}\n${payload}`.toLowerCase()
    searchTexts.set(message, text)
  }
  return text
}

/** The payload on one line, as a row shows it (JSON compacted with spaces), computed once per message. */
export function previewOf(message: LoggedMessage): string {
  let text = previews.get(message)
  if (text === undefined) {
    const full = message.payloadBase64.length > (TEXT_LIMIT_BYTES / 3) * 4 ? undefined : describePayload(message.payloadBase64).text
    const shown = full ?? new TextDecoder().decode(payloadBytes(message.payloadBase64, PREVIEW_CHARS * 4))
    text = shown.replace(/\s*\n\s*/g, ' ').slice(0, PREVIEW_CHARS)
    previews.set(message, text)
  }
  return text
}

/**
 * Messages per second, counted over the last second from the batches as they arrive (a batch a
 * frame or so: a few dozen entries at most).
 */
export class RateMeter {
  private samples: { time: number; count: number }[] = []
  private sum = 0

  constructor(private readonly windowMs = 1000) {}

  record(count: number, now: number): void {
    if (count > 0) {
      this.samples.push({ time: now, count })
      this.sum += count
    }
    this.forget(now)
  }

  perSecond(now: number): number {
    this.forget(now)
    return Math.round((this.sum * 1000) / this.windowMs)
  }

  clear(): void {
    this.samples = []
    this.sum = 0
  }

  private forget(now: number): void {
    let old = 0
    while (old < this.samples.length && (this.samples[old] as { time: number }).time <= now - this.windowMs) {
      this.sum -= (this.samples[old] as { count: number }).count
      old += 1
    }
    if (old > 0) this.samples.splice(0, old)
  }
}

/** A message's time as the rest of the screens show times: the operator's local time, to the millisecond. */
export function formatLogTime(iso: string): string {
  const date = new Date(iso)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}

/** How a payload is shown: JSON pretty-printed, else text, else hex. */
export function describePayload(payloadBase64: string): { kind: 'json' | 'text' | 'hex'; text: string } {
  const bytes = payloadBytes(payloadBase64)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return { kind: 'hex', text: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ') }
  }
  try {
    return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) }
  } catch {
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000e-\u001f]/.test(text)
      ? { kind: 'hex', text: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ') }
      : { kind: 'text', text }
  }
}
