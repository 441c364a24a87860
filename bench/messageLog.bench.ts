/**
 * npm run bench (second part): the tester's message log under 100,000 messages, arriving in
 * batches as the main side sends them. Targets: a batch of 100 stored in under 1 ms on average,
 * a page of the newest 100 (filtered by topic) in under 5 ms, memory bounded by the capacity.
 */
import { MessageLog } from '../src-renderer/src/messageLog'

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 100_000)
const BATCH = 100
const payloadBase64 = Buffer.from(JSON.stringify({ hello: 'world', reading: 21.5 })).toString('base64')

const log = new MessageLog()
const heapBefore = process.memoryUsage().heapUsed
let batchTime = 0
for (let sent = 0; sent < TOTAL; sent += BATCH) {
  const batch = Array.from({ length: BATCH }, (_, i) => ({
    time: new Date().toISOString(),
    direction: 'in' as const,
    topic: `fleet/device-${(sent + i) % 50}/telemetry`,
    qos: 1 as const,
    retain: false,
    payloadBase64,
  }))
  const start = performance.now()
  log.push(batch)
  batchTime += performance.now() - start
}
const perBatch = batchTime / (TOTAL / BATCH)

const queries = 200
let pageTime = 0
for (let i = 0; i < queries; i++) {
  const start = performance.now()
  log.page(0, 100, i % 2 ? 'device-7/' : '')
  pageTime += performance.now() - start
}
const perPage = pageTime / queries
const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024

const ok = perBatch < 1 && perPage < 5 && log.length === log.capacity && log.dropped === TOTAL - log.capacity
console.log(
  `message log: ${TOTAL} messages, kept ${log.length}, dropped ${log.dropped}; ${perBatch.toFixed(3)} ms per batch of ${BATCH} (target < 1), ` +
    `${perPage.toFixed(2)} ms per page of 100 (target < 5), heap +${heapGrowthMb.toFixed(1)} MB  ${ok ? 'met' : 'MISSED'}`,
)
process.exitCode = ok ? 0 : 1
