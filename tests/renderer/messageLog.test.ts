// The tester's message log: a ring of the newest messages, counted drops, topic filter, pages.
import { describe, expect, it } from 'vitest'
import type { TesterMessage } from '../../src-main/contract/types'
import { MessageLog } from '../../src-renderer/src/messageLog'

const message = (n: number, topic = `t/${n}`): TesterMessage => ({
  time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
  direction: n % 2 ? 'in' : 'out',
  topic,
  qos: 1,
  retain: false,
  payloadBase64: Buffer.from(String(n)).toString('base64'),
})
const messages = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => message(from + i))
const topics = (rows: { topic: string }[]) => rows.map((row) => row.topic)

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
    expect(log.page(0, 10).rows.map((row) => row.seq)).toEqual([4, 3, 2])
    log.clear()
    log.push(messages(5, 6))
    expect(log.page(0, 10).rows.map((row) => row.seq)).toEqual([5])
  })

  it('pages newest first, with the number of matches for the pager', () => {
    const log = new MessageLog(10)
    log.push(messages(0, 7))
    expect(log.page(0, 3)).toMatchObject({ matching: 7 })
    expect(topics(log.page(0, 3).rows)).toEqual(['t/6', 't/5', 't/4'])
    expect(topics(log.page(3, 3).rows)).toEqual(['t/3', 't/2', 't/1'])
    expect(topics(log.page(6, 3).rows)).toEqual(['t/0'])
    expect(log.page(9, 3)).toEqual({ rows: [], matching: 7 })
    expect(log.page(0, 0)).toEqual({ rows: [], matching: 7 })
  })

  it('pages after the ring has wrapped', () => {
    const log = new MessageLog(4)
    log.push(messages(0, 10))
    expect(topics(log.page(0, 2).rows)).toEqual(['t/9', 't/8'])
    expect(topics(log.page(2, 5).rows)).toEqual(['t/7', 't/6'])
    expect(log.page(0, 2).matching).toBe(4)
  })

  it('filters by a part of the topic, and pages and counts the matches only', () => {
    const log = new MessageLog(100)
    log.push([
      message(0, 'devices/a/up'),
      message(1, 'devices/b/up'),
      message(2, 'devices/a/down'),
      message(3, 'other'),
      message(4, 'devices/a/up'),
    ])
    const page = log.page(0, 2, 'devices/a')
    expect(page.matching).toBe(3)
    expect(page.rows.map((row) => [row.topic, row.seq])).toEqual([
      ['devices/a/up', 4],
      ['devices/a/down', 2],
    ])
    expect(log.page(2, 2, 'devices/a').rows.map((row) => row.seq)).toEqual([0])
    expect(log.page(0, 10, 'up').matching).toBe(3)
    expect(log.page(0, 10, 'nothing')).toEqual({ rows: [], matching: 0 })
    // No filter is every message.
    expect(log.page(0, 10, '').matching).toBe(5)
  })

  it('clearing empties the log and its drop count', () => {
    const log = new MessageLog(2)
    log.push(messages(0, 5))
    log.clear()
    expect(log.length).toBe(0)
    expect(log.dropped).toBe(0)
    expect(log.toArray()).toEqual([])
    expect(log.page(0, 10)).toEqual({ rows: [], matching: 0 })
    log.push(messages(5, 8))
    expect(log.toArray()).toEqual(messages(6, 8))
    expect(log.dropped).toBe(1)
  })

  it('exports messages as they came, without the row numbers', () => {
    const log = new MessageLog(3)
    log.push([message(1)])
    expect(log.toArray()[0]).not.toHaveProperty('seq')
    expect(log.page(0, 1).rows[0]).toEqual({ ...message(1), seq: 0 })
  })
})
