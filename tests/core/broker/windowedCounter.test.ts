import { describe, expect, it } from 'vitest'
import { WindowedCounter } from '../../../src-main/core/broker/windowedCounter'

describe('WindowedCounter', () => {
  it('counts per key and window, and starts again when the window has passed', () => {
    const counter = new WindowedCounter(1000)
    expect([counter.hit('a', 0), counter.hit('a', 500), counter.hit('b', 600), counter.hit('a', 999)]).toEqual([1, 2, 1, 3])
    expect(counter.hit('a', 1000)).toBe(1)
  })

  it('holds at most its bound of keys: expired windows go first, then the oldest, never a renewed active one', () => {
    const counter = new WindowedCounter(1000, 3)
    counter.hit('flooder', 0)
    counter.hit('b', 500)
    counter.hit('c', 600)
    // The flooder's window renews at 1000: it is now the newest window, not the oldest.
    counter.hit('flooder', 1000)
    // A new key while none has expired: the oldest window (b's) makes room, not the flooder's.
    counter.hit('d', 1100)
    expect(counter.hit('flooder', 1200)).toBe(2)
    expect(counter.hit('b', 1200)).toBe(1)
  })
})
