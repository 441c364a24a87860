import { onMounted, onUnmounted, ref, shallowRef, watch } from 'vue'
import type { Diagnosis, QuickTestRequest, TesterDrop, TesterPublish } from '../../../src-main/contract/types'
import { api, onEvent } from '../api'
import { messageText } from '../i18n/translate'
import { type LogRows, LogView, MessageLog, NO_ROWS, RateMeter } from '../messageLog'

/** How long a new filter may look through the kept messages per frame (a frame is ~16 ms). */
const FILTER_SLICE_MS = 6
/** How often the per-second figure is brought up to date when no message arrives. */
const RATE_TICK_MS = 500

export interface LogCounters {
  kept: number
  dropped: number
  /** Incoming messages since the session opened (or the log was cleared), kept or not. */
  received: number
  perSecond: number
  /** Incoming messages since the view was paused. */
  newWhilePaused: number
}

const ZERO: LogCounters = { kept: 0, dropped: 0, received: 0, perSecond: 0, newWhilePaused: 0 }

/**
 * Why a session dropped, in the current language: the core's sentence by its key, with the
 * broker's own logged reason in the current language too when the broker gave it by key.
 */
export function dropText(drop: Partial<TesterDrop>): string {
  if (!drop.reasonMessage) return drop.reason ?? ''
  const brokerReason = drop.brokerReasonMessage ? messageText(drop.brokerReasonMessage, drop.brokerReason) : drop.brokerReason
  const params = { ...drop.reasonMessage.params }
  if (brokerReason !== undefined && 'reason' in params) params.reason = brokerReason
  return messageText({ ...drop.reasonMessage, params }, drop.reason)
}

/**
 * One live tester session, driven from the page (the connection itself lives in the main
 * process), and its message log built for volume:
 *
 * - messages go into a plain ring buffer as their batches arrive (every 50 ms from the main side),
 *   out of Vue's reactivity: nothing deep-watches 10,000 objects;
 * - the screen is brought up to date at most once per animation frame: one `rows` value (a range
 *   of the filtered log that later arrivals do not move) and one `counters` value;
 * - a filter is applied to the whole kept window a few milliseconds per frame, never in one go;
 * - paused, `rows` stays as it was while the counters keep counting.
 */
export function useTesterSession(events: { closed?: (drop?: Partial<TesterDrop>) => void } = {}) {
  const sessionId = ref<string | null>(null)
  const subscriptions = ref<string[]>([])
  const following = ref(true)
  const filter = ref('')
  /** A new filter is still looking through the kept messages. */
  const searching = ref(false)
  const rows = shallowRef<LogRows>(NO_ROWS)
  const counters = shallowRef<LogCounters>(ZERO)

  const log = new MessageLog()
  const view = new LogView(log)
  const meter = new RateMeter()
  let receivedAtPause = 0
  /** Paused, the rows are still replaced until a new filter (or a clear) has been applied. */
  let refreshWhilePaused = false
  let frame = 0
  let ticker: ReturnType<typeof setInterval> | undefined

  function schedule(): void {
    if (!frame) frame = requestAnimationFrame(update)
  }

  function update(): void {
    frame = 0
    const caughtUp = view.sync(FILTER_SLICE_MS)
    if (searching.value === caughtUp) searching.value = !caughtUp
    if (following.value || refreshWhilePaused) rows.value = view.rows()
    if (caughtUp) refreshWhilePaused = false
    count()
    if (!caughtUp) schedule()
  }

  function count(): void {
    counters.value = {
      kept: log.length,
      dropped: log.dropped,
      received: log.received,
      perSecond: meter.perSecond(performance.now()),
      newWhilePaused: following.value ? 0 : log.received - receivedAtPause,
    }
  }

  watch(filter, (text) => {
    view.setFilter(text)
    refreshWhilePaused = true
    schedule()
  })

  /** Stops the view where it is (the log and its counters go on), or follows the newest again. */
  function setFollowing(follow: boolean): void {
    if (following.value === follow) return
    following.value = follow
    if (!follow) receivedAtPause = log.received
    count()
    if (follow) schedule()
  }

  function clearLog(): void {
    log.clear()
    meter.clear()
    receivedAtPause = 0
    refreshWhilePaused = true
    schedule()
  }

  /** The kept messages as a JSON file, oldest first: payloads only, never credentials. */
  function exportLog(): void {
    const blob = new Blob([JSON.stringify(log.toArray(), null, 2)], { type: 'application/json' })
    const link = document.createElement('a')
    link.href = URL.createObjectURL(blob)
    link.download = 'certdesk-messages.json'
    link.click()
    URL.revokeObjectURL(link.href)
  }

  /** Ended by the operator (no `drop`), or dropped: why, as the main side tells it. */
  function ended(drop?: Partial<TesterDrop>): void {
    sessionId.value = null
    subscriptions.value = []
    clearInterval(ticker)
    ticker = undefined
    events.closed?.(drop)
  }

  let stopEvents: (() => void) | undefined
  onMounted(() => {
    stopEvents = onEvent((event) => {
      if (event.type === 'tester-messages' && event.sessionId === sessionId.value) {
        log.push(event.messages)
        let incoming = 0
        for (const message of event.messages) if (message.direction === 'in') incoming += 1
        meter.record(incoming, performance.now())
        schedule()
      } else if (event.type === 'tester-state' && event.sessionId === sessionId.value && event.state === 'disconnected') {
        const { reason, reasonMessage, brokerReason, brokerReasonMessage, reasonCode } = event
        ended({ reason, reasonMessage, brokerReason, brokerReasonMessage, reasonCode })
      }
    })
  })
  onUnmounted(() => {
    stopEvents?.()
    cancelAnimationFrame(frame)
    clearInterval(ticker)
    if (sessionId.value) void api.testerDisconnect(sessionId.value)
  })

  /** Opens a session with a fresh log; a connection that failed comes back diagnosed. */
  async function connect(request: QuickTestRequest): Promise<Diagnosis | undefined> {
    const opened = await api.testerConnect(request)
    if (!opened.sessionId) return opened.diagnosis
    clearLog()
    setFollowing(true)
    sessionId.value = opened.sessionId
    ticker = setInterval(count, RATE_TICK_MS)
    return undefined
  }

  async function disconnect(): Promise<void> {
    const id = sessionId.value
    if (!id) return
    ended()
    await api.testerDisconnect(id)
  }

  async function subscribe(topic: string, qos: 0 | 1 | 2): Promise<void> {
    if (!sessionId.value) return
    await api.testerSubscribe(sessionId.value, topic, qos)
    if (!subscriptions.value.includes(topic)) subscriptions.value = [...subscriptions.value, topic]
  }

  async function unsubscribe(topic: string): Promise<void> {
    if (!sessionId.value) return
    await api.testerUnsubscribe(sessionId.value, topic)
    subscriptions.value = subscriptions.value.filter((t) => t !== topic)
  }

  async function publish(message: TesterPublish): Promise<void> {
    if (!sessionId.value) return
    await api.testerPublish(sessionId.value, message)
  }

  return {
    sessionId,
    subscriptions,
    following,
    filter,
    searching,
    rows,
    counters,
    setFollowing,
    clearLog,
    exportLog,
    connect,
    disconnect,
    subscribe,
    unsubscribe,
    publish,
  }
}
