import type { TesterMessage } from '../../src-main/contract/types'

export interface LoggedMessage extends TesterMessage {
  /** Increasing number, stable across drops: a row key. */
  seq: number
}

/**
 * The tester's message log: a ring buffer of the newest `capacity` messages. A flood of 100,000
 * messages costs O(1) per message and a fixed amount of memory; the older ones drop out and are
 * counted, so the screen can say how many.
 */
export class MessageLog {
  private readonly buffer: (LoggedMessage | undefined)[]
  private start = 0
  private size = 0
  private nextSeq = 0
  dropped = 0

  constructor(readonly capacity = 10_000) {
    this.buffer = new Array(capacity)
  }

  get length(): number {
    return this.size
  }

  push(messages: readonly TesterMessage[]): void {
    for (const message of messages) {
      const logged = { ...message, seq: this.nextSeq++ }
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

  /** Newest first, skipping `offset` matches, at most `count` of them. */
  page(offset: number, count: number, topicFilter = ''): { rows: LoggedMessage[]; matching: number } {
    const rows: LoggedMessage[] = []
    let matching = 0
    for (let i = this.size - 1; i >= 0; i--) {
      const message = this.buffer[(this.start + i) % this.capacity] as LoggedMessage
      if (topicFilter && !message.topic.includes(topicFilter)) continue
      if (matching >= offset && rows.length < count) rows.push(message)
      matching += 1
    }
    return { rows, matching }
  }

  clear(): void {
    this.buffer.fill(undefined)
    this.start = 0
    this.size = 0
    this.dropped = 0
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

/** How a payload is shown: JSON pretty-printed, else text, else hex. */
export function describePayload(payloadBase64: string): { kind: 'json' | 'text' | 'hex'; text: string } {
  const bytes = Uint8Array.from(atob(payloadBase64), (c) => c.charCodeAt(0))
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
