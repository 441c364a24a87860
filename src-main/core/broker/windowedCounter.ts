/** The window of the per-address connection rate, and of log coalescing; the log's sentences say "10 s". */
export const RATE_WINDOW_MS = 10_000

/**
 * Counts events per key in fixed windows (connections per address, log entries per client).
 * Holds at most `maxKeys` keys, so a flood of distinct keys costs bounded memory: expired
 * windows go first, then the oldest key.
 */
export class WindowedCounter {
  private readonly windows = new Map<string, { start: number; count: number }>()

  constructor(
    readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Counts one event for `key`; returns how many its current window holds, this one included. */
  hit(key: string, now = Date.now()): number {
    let window = this.windows.get(key)
    if (window === undefined || now - window.start >= this.windowMs) {
      // Re-inserted, so the map stays in order of window start: the oldest windows are first.
      this.windows.delete(key)
      if (this.windows.size >= this.maxKeys) this.makeRoom(now)
      window = { start: now, count: 0 }
      this.windows.set(key, window)
    }
    window.count += 1
    return window.count
  }

  /** Drops expired windows from the front (they are in start order), else the oldest one: O(1) per new key on average. */
  private makeRoom(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start < this.windowMs) break
      this.windows.delete(key)
    }
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string)
  }
}
