import type { StoreData } from '../store/schema'

/**
 * Calls `onChange` whenever the registry on disk changes, whoever changed it (this process or
 * the CLI in another). `snapshot` returns the same object until the index file changes, so a
 * look is one `stat`. A damaged or vanished index keeps the last good view until it reads again.
 */
export function watchRegistry(snapshot: () => StoreData, intervalMs: number, onChange: (data: StoreData) => void): () => void {
  let lastSeen = snapshot()
  const timer = setInterval(() => {
    let current: StoreData
    try {
      current = snapshot()
    } catch {
      return
    }
    if (current === lastSeen) return
    lastSeen = current
    onChange(current)
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
