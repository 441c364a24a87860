// The tester's message log: a ring of the newest messages, counted drops, topic filter, pages;
// the view the screen shows (filter over the kept window, a slice at a time; ranges that hold
// still), the per-second counter, and how times and payloads are shown.
import { afterEach, describe, expect, it } from 'vitest'
import type { TesterMessage } from '../../src-main/contract/types'
import {
  type LogRows,
  LogView,
  MessageLog,
  RateMeter,
  formatLogTime,
  matchesFilter,
  previewOf,
  searchTextOf,
} from '../../src-renderer/src/messageLog'

const message = (n: number, topic = `t/${n}`): TesterMessage => ({
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
  direction: n % 2 ? 'in' : 'out',
  topic,
  qos: 1,
  retain: false,
  payloadBase64: Buffer.from(String(n)).toString('base64'),
})
const messages = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => message(from + i))

describe('the tester message log', () => {
  it('keeps everything below its capacity, oldest first when exported', () => {
    const log = new MessageLog(5)
    log.push(messages(0, 3))
    expect(log.length).toBe(3)
    expect(log.dropped).toBe(0)
    expect(log.toArray()).toEqual(messages(0, 3))
  })

  it('keeps the newest `capacity` messages and counts the ones that dropped out', () => {
    const log = new MessageLog(5)
    log.push(messages(0, 4))
    log.push(messages(4, 9))
    log.push([message(9)])
    expect(log.length).toBe(5)
    expect(log.dropped).toBe(5)
    expect(log.toArray()).toEqual(messages(5, 10))
    // Many times round the ring.
    for (let batch = 10; batch < 1004; batch += 7) log.push(messages(batch, batch + 7))
    expect(log.length).toBe(5)
    expect(log.dropped).toBe(1004 - 5)
    expect(log.toArray()).toEqual(messages(999, 1004))
  })

  it('a capacity of one holds the last message', () => {
    const log = new MessageLog(1)
    log.push(messages(0, 3))
    expect(log.toArray()).toEqual([message(2)])
    expect(log.dropped).toBe(2)
  })

  it('numbers every message once, across drops and clears, so rows keep their keys', () => {
    const log = new MessageLog(3)
    log.push(messages(0, 5))
    expect([log.firstSeq, log.endSeq]).toEqual([2, 5])
    expect([2, 3, 4].map((seq) => log.bySeq(seq)?.seq)).toEqual([2, 3, 4])
    log.clear()
    log.push(messages(5, 6))
    expect([log.firstSeq, log.endSeq]).toEqual([5, 6])
    expect(log.bySeq(5)?.topic).toBe('t/5')
  })

  it('clearing empties the log and its drop count', () => {
    const log = new MessageLog(2)
    log.push(messages(0, 5))
    log.clear()
    expect(log.length).toBe(0)
    expect(log.dropped).toBe(0)
    expect(log.toArray()).toEqual([])
    expect(log.bySeq(log.firstSeq)).toBeUndefined()
    log.push(messages(5, 8))
    expect(log.toArray()).toEqual(messages(6, 8))
    expect(log.dropped).toBe(1)
  })

  it('exports messages as they came, without the row numbers', () => {
    const log = new MessageLog(3)
    log.push([message(1)])
    expect(log.toArray()[0]).not.toHaveProperty('seq')
    expect(log.bySeq(0)).toEqual({ ...message(1), seq: 0 })
  })
})

const rowsOf = (rows: LogRows) => Array.from({ length: rows.length }, (_, i) => rows.at(i)?.topic)
const withPayload = (n: number, topic: string, payload: string): TesterMessage => ({
  ...message(n, topic),
  payloadBase64: Buffer.from(payload).toString('base64'),
})

describe('the log addressed by position and number', () => {
  it('reads kept messages oldest first, by index or by seq, and counts what came in', () => {
    const log = new MessageLog(4)
    expect(log.firstSeq).toBe(0)
    expect(log.endSeq).toBe(0)
    log.push(messages(0, 6))
    expect([log.firstSeq, log.endSeq]).toEqual([2, 6])
    expect(log.at(0)?.topic).toBe('t/2')
    expect(log.at(3)?.topic).toBe('t/5')
    expect(log.at(4)).toBeUndefined()
    expect(log.at(-1)).toBeUndefined()
    expect(log.bySeq(1)).toBeUndefined()
    expect(log.bySeq(4)?.topic).toBe('t/4')
    // message(n) is incoming for odd n: 1, 3, 5.
    expect(log.received).toBe(3)
    log.clear()
    expect([log.firstSeq, log.endSeq, log.received]).toEqual([6, 6, 0])
  })
})

describe('the log view', () => {
  it('without a filter shows every kept message, oldest first, and follows drops', () => {
    const log = new MessageLog(5)
    const view = new LogView(log)
    log.push(messages(0, 3))
    expect(view.sync()).toBe(true)
    expect(rowsOf(view.rows())).toEqual(['t/0', 't/1', 't/2'])
    log.push(messages(3, 8))
    view.sync()
    expect(rowsOf(view.rows())).toEqual(['t/3', 't/4', 't/5', 't/6', 't/7'])
  })

  it('hands out ranges that hold still while messages arrive and drop out (what a paused screen shows)', () => {
    const log = new MessageLog(3)
    const view = new LogView(log)
    log.push(messages(0, 3))
    view.sync()
    const paused = view.rows()
    // Far more than the capacity, so the view makes room at its front many times.
    for (let n = 3; n < 5000; n += 10) {
      log.push(messages(n, n + 10))
      view.sync()
    }
    expect(rowsOf(paused)).toEqual(['t/0', 't/1', 't/2'])
    expect(paused.at(3)).toBeUndefined()
    expect(rowsOf(view.rows())).toEqual(['t/5000', 't/5001', 't/5002'])
  })

  it('filters on the topic and the payload text, ignoring case and surrounding spaces', () => {
    const log = new MessageLog(10)
    const view = new LogView(log)
    log.push([
      withPayload(0, 'Fleet/Pump-7/up', '{"level": 3}'),
      withPayload(1, 'fleet/meter-3/up', '{"alarm": "HIGH pressure"}'),
      withPayload(2, 'other', 'plain text'),
    ])
    view.setFilter('  pump-7 ')
    expect(view.filter).toBe('pump-7')
    view.sync()
    expect(rowsOf(view.rows())).toEqual(['Fleet/Pump-7/up'])
    view.setFilter('high PRESSURE')
    view.sync()
    expect(rowsOf(view.rows())).toEqual(['fleet/meter-3/up'])
    view.setFilter('fleet/')
    view.sync()
    expect(rowsOf(view.rows())).toEqual(['Fleet/Pump-7/up', 'fleet/meter-3/up'])
    view.setFilter('')
    view.sync()
    expect(view.rows().length).toBe(3)
  })

  it('keeps a filter current: new matches are added, dropped ones leave', () => {
    const log = new MessageLog(4)
    const view = new LogView(log)
    view.setFilter('/even')
    const push = (from: number, to: number) =>
      log.push(Array.from({ length: to - from }, (_, i) => message(from + i, `t/${from + i}/${(from + i) % 2 ? 'odd' : 'even'}`)))
    push(0, 4)
    view.sync()
    expect(rowsOf(view.rows())).toEqual(['t/0/even', 't/2/even'])
    push(4, 7) // 0, 1 and 2 drop out
    view.sync()
    expect(rowsOf(view.rows())).toEqual(['t/4/even', 't/6/even'])
    log.clear()
    view.sync()
    expect(view.rows().length).toBe(0)
  })

  it('applies a new filter to the whole kept window a time slice at a time, then catches up with new messages', () => {
    const log = new MessageLog(10_000)
    const view = new LogView(log)
    log.push(Array.from({ length: 10_000 }, (_, n) => message(n, n % 1000 === 0 ? `needle/${n}` : `hay/${n}`)))
    view.setFilter('needle')
    // A clock that moves 1 ms per look: a 3 ms budget looks at a few steps of messages per call.
    let now = 0
    const clock = () => now++
    let calls = 0
    while (!view.sync(3, clock)) {
      calls += 1
      expect(view.pending).toBe(true)
    }
    expect(calls).toBeGreaterThan(3)
    expect(view.pending).toBe(false)
    expect(rowsOf(view.rows())).toEqual(Array.from({ length: 10 }, (_, i) => `needle/${i * 1000}`))
    // Messages that arrive while it looks are looked at too.
    view.setFilter('needle')
    view.sync(1, clock)
    log.push([message(10_000, 'needle/late')])
    while (!view.sync(1, clock));
    expect(rowsOf(view.rows()).at(-1)).toBe('needle/late')
    expect(view.rows().length).toBe(10) // needle/0 dropped out when needle/late came in
  })

  it('computes the text it searches once per message, and only the start of a huge payload', () => {
    const log = new MessageLog(2)
    log.push([withPayload(0, 'A/B', 'Hello'), withPayload(1, 'big', `${'x'.repeat(100_000)}TAIL`)])
    const first = log.at(0) as NonNullable<ReturnType<MessageLog['at']>>
    expect(searchTextOf(first)).toBe('a/b\nhello')
    expect(searchTextOf(first)).toBe(searchTextOf(first))
    expect(matchesFilter(first, 'hello')).toBe(true)
    expect(matchesFilter(first, '')).toBe(true)
    expect(matchesFilter(log.at(1) as NonNullable<ReturnType<MessageLog['at']>>, 'tail')).toBe(false)
  })
})

describe('how a message is shown', () => {
  const savedTz = process.env.TZ
  afterEach(() => {
    process.env.TZ = savedTz
  })

  it('gives the time in local time, to the millisecond', () => {
    process.env.TZ = 'Asia/Shanghai'
    expect(formatLogTime('2025-01-01T23:59:58.007Z')).toBe('07:59:58.007')
    process.env.TZ = 'America/New_York'
    expect(formatLogTime('2025-01-01T23:59:58.007Z')).toBe('18:59:58.007')
  })

  it('previews a payload on one line: JSON spaced, text as it is, binary as hex, long ones cut', () => {
    const log = new MessageLog(4)
    log.push([
      withPayload(0, 't', '{"hello":"world","n":[1,2]}'),
      withPayload(1, 't', 'line one\n  line two'),
      { ...message(2, 't'), payloadBase64: Buffer.from([0, 1, 255]).toString('base64') },
      withPayload(3, 't', 'y'.repeat(1000)),
    ])
    const preview = (i: number) => previewOf(log.at(i) as NonNullable<ReturnType<MessageLog['at']>>)
    expect(preview(0)).toBe('{ "hello": "world", "n": [ 1, 2 ] }')
    expect(preview(1)).toBe('line one line two')
    expect(preview(2)).toBe('00 01 ff')
    expect(preview(3)).toHaveLength(300)
  })
})

describe('the per-second counter', () => {
  it('counts what arrived within the last second', () => {
    const meter = new RateMeter()
    meter.record(100, 0)
    meter.record(50, 500)
    expect(meter.perSecond(900)).toBe(150)
    expect(meter.perSecond(1000)).toBe(50)
    expect(meter.perSecond(1600)).toBe(0)
    meter.record(0, 1700)
    expect(meter.perSecond(1700)).toBe(0)
    meter.record(7, 1800)
    meter.clear()
    expect(meter.perSecond(1800)).toBe(0)
  })
})
