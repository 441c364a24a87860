import { timingSafeEqual } from 'node:crypto'

/** Compares secrets (device keys, tokens, session secrets) in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8')
  const right = Buffer.from(b, 'utf8')
  // Compare equal-length buffers so the time taken does not reveal where they differ.
  if (left.length !== right.length) {
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}
