import { type Ref, type ShallowRef, computed, effectScope, markRaw, onMounted, onUnmounted, reactive, ref, shallowRef, watch } from 'vue'
import type { Diagnosis, QuickTestRequest, TesterDrop, TesterMessage, TesterPublish } from '../../../src-main/contract/types'
import { api, onEvent } from '../api'
import { messageText } from '../i18n/translate'
import { type LogRows, LogView, MessageLog, NO_ROWS, RateMeter } from '../messageLog'
import { type SessionDrafts, emptySessionDrafts } from '../testerRequest'

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

/** What the page says about one live session (its connection lives in the main process). */
export interface TesterSession {
  readonly id: string
  /** The client id it connected with (or where to), for its tab. */
  readonly label: string
  /** It speaks MQTT 5: its publish offers properties. */
  readonly mqtt5: boolean
  readonly connected: Ref<boolean>
  /** Why it dropped when the operator did not end it. */
  readonly dropped: ShallowRef<Partial<TesterDrop> | null>
  readonly subscriptions: Ref<string[]>
  readonly following: Ref<boolean>
  readonly filter: Ref<string>
  /** A new filter is still looking through the kept messages. */
  readonly searching: Ref<boolean>
  readonly rows: ShallowRef<LogRows>
  readonly counters: ShallowRef<LogCounters>
  /** Its subscribe and publish forms as the operator left them. */
  readonly drafts: SessionDrafts
  setFollowing(follow: boolean): void
  clearLog(): void
  exportLog(): void
  /** A batch of its messages, as the main side sends them. */
  receive(messages: readonly TesterMessage[]): void
  /** Ended by the operator (no `drop`), or dropped: why, as the main side tells it. */
  end(drop?: Partial<TesterDrop>): void
  /** Stops its timers and watchers: it is closed. */
  dispose(): void
}

/**
 * One session and its message log, built for volume:
 *
 * - messages go into a plain ring buffer as their batches arrive (every 50 ms from the main side),
 *   out of Vue's reactivity: nothing deep-watches 10,000 objects;
 * - the screen is brought up to date at most once per animation frame: one `rows` value (a range
 *   of the filtered log that later arrivals do not move) and one `counters` value;
 * - a filter is applied to the whole kept window a few milliseconds per frame, never in one go;
 * - paused, `rows` stays as it was while the counters keep counting.
 */
function createSession(id: string, label: string, mqtt5: boolean): TesterSession {
  const scope = effectScope(true)
  const connected = ref(true)
  const dropped = shallowRef<Partial<TesterDrop> | null>(null)
  const subscriptions = ref<string[]>([])
  const following = ref(true)
  const filter = ref('')
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
  let ticker: ReturnType<typeof setInterval> | undefined = setInterval(count, RATE_TICK_MS)

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

  /** Brings the counters up to date; a new value only when one of them changed (the ticker runs idle too). */
  function count(): void {
    const now: LogCounters = {
      kept: log.length,
      dropped: log.dropped,
      received: log.received,
      perSecond: meter.perSecond(performance.now()),
      newWhilePaused: following.value ? 0 : log.received - receivedAtPause,
    }
    const was = counters.value
    if (
      now.kept !== was.kept ||
      now.dropped !== was.dropped ||
      now.received !== was.received ||
      now.perSecond !== was.perSecond ||
      now.newWhilePaused !== was.newWhilePaused
    )
      counters.value = now
  }

  scope.run(() =>
    watch(filter, (text) => {
      view.setFilter(text)
      refreshWhilePaused = true
      schedule()
    }),
  )

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

  function receive(messages: readonly TesterMessage[]): void {
    const receivedBefore = log.received
    log.push(messages)
    meter.record(log.received - receivedBefore, performance.now())
    schedule()
  }

  function stopTicking(): void {
    clearInterval(ticker)
    ticker = undefined
  }

  function end(drop?: Partial<TesterDrop>): void {
    connected.value = false
    subscriptions.value = []
    if (drop) dropped.value = drop
    stopTicking()
    count()
  }

  function dispose(): void {
    stopTicking()
    cancelAnimationFrame(frame)
    frame = 0
    scope.stop()
  }

  return markRaw({
    id,
    label,
    mqtt5,
    connected,
    dropped,
    subscriptions,
    following,
    filter,
    searching,
    rows,
    counters,
    drafts: reactive(emptySessionDrafts()),
    setFollowing,
    clearLog,
    exportLog,
    receive,
    end,
    dispose,
  })
}

/** The client id a request connects with, or where it goes when the core picks one. */
function labelOf(request: QuickTestRequest): string {
  return request.kind === 'device' ? request.deviceId : request.clientId || `${request.host}:${request.port}`
}

/**
 * The tester's live sessions, several at once (one tab each): each with its own log, counters
 * and drop notice. One event subscription serves them all, routing each event by its sessionId.
 */
export function useTesterSessions(events: { dropped?: (session: TesterSession, drop: Partial<TesterDrop>) => void } = {}) {
  /** Open first, oldest first; a dropped session stays (with why) until its tab is closed. */
  const sessions = shallowRef<TesterSession[]>([])
  const activeId = ref<string | null>(null)
  const active = computed(() => sessions.value.find((s) => s.id === activeId.value) ?? null)
  const byId = new Map<string, TesterSession>()

  let stopEvents: (() => void) | undefined
  onMounted(() => {
    stopEvents = onEvent((event) => {
      if (event.type !== 'tester-messages' && event.type !== 'tester-state') return
      const session = byId.get(event.sessionId)
      if (!session) return
      if (event.type === 'tester-messages') session.receive(event.messages)
      else if (event.state === 'disconnected' && session.connected.value) {
        const { reason, reasonMessage, brokerReason, brokerReasonMessage, reasonCode } = event
        const drop = { reason, reasonMessage, brokerReason, brokerReasonMessage, reasonCode }
        session.end(drop)
        events.dropped?.(session, drop)
      }
    })
  })
  onUnmounted(() => {
    stopEvents?.()
    for (const session of sessions.value) {
      session.dispose()
      if (session.connected.value) void api.testerDisconnect(session.id)
    }
    byId.clear()
  })

  /** Opens one more session (the others stay open) and shows it; a failed one comes back diagnosed. */
  async function connect(request: QuickTestRequest): Promise<Diagnosis | undefined> {
    const opened = await api.testerConnect(request)
    if (!opened.sessionId) return opened.diagnosis
    const session = createSession(opened.sessionId, labelOf(request), request.kind === 'manual' && request.protocolVersion === 5)
    byId.set(session.id, session)
    sessions.value = [...sessions.value, session]
    activeId.value = session.id
    return undefined
  }

  /** Ends a session and closes its tab; the others go on. */
  async function close(id: string): Promise<void> {
    const session = byId.get(id)
    if (!session) return
    const index = sessions.value.indexOf(session)
    const wasConnected = session.connected.value
    session.end()
    session.dispose()
    byId.delete(id)
    sessions.value = sessions.value.filter((s) => s !== session)
    if (activeId.value === id) activeId.value = (sessions.value[index] ?? sessions.value[index - 1])?.id ?? null
    if (wasConnected) await api.testerDisconnect(id)
  }

  async function subscribe(session: TesterSession, topic: string, qos: 0 | 1 | 2): Promise<void> {
    if (!session.connected.value) return
    await api.testerSubscribe(session.id, topic, qos)
    if (!session.subscriptions.value.includes(topic)) session.subscriptions.value = [...session.subscriptions.value, topic]
  }

  async function unsubscribe(session: TesterSession, topic: string): Promise<void> {
    if (!session.connected.value) return
    await api.testerUnsubscribe(session.id, topic)
    session.subscriptions.value = session.subscriptions.value.filter((t) => t !== topic)
  }

  async function publish(session: TesterSession, message: TesterPublish): Promise<void> {
    if (!session.connected.value) return
    await api.testerPublish(session.id, message)
  }

  return { sessions, activeId, active, connect, close, subscribe, unsubscribe, publish }
}
