// The tester against Debian's mosquitto, which speaks MQTT 5.0 (the embedded broker, aedes 1.2,
// serves 3.1.1 only: sessions.test.ts covers it). Real peers only: mosquitto with a server
// certificate from the fleet's root, several tester sessions side by side, and a TCP relay that
// cuts the line to drop a connection the way a network does.
import { type Server, type Socket, createServer, connect as tcpConnect } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ConnectionProfile } from '../../../src-main/core/tester/connectionProfile'
import { MAX_TESTER_SESSIONS, TesterSessions } from '../../../src-main/core/tester/sessions'
import type { TesterEvent, TesterMessage } from '../../../src-main/core/tester/types'
import { type Fleet, makeFleet } from '../../helpers/fleet'
import { startMosquitto } from '../../helpers/mosquitto'
import { whenFileEnds } from '../../helpers/tools'

let fleet: Fleet
let port: number

/** The broker identity Certdesk hands to a real broker (`broker export`): localhost, from the root. */
async function mosquittoIdentity() {
  const server = await fleet.workspace.ensureBrokerServerCertificate()
  return { caPem: fleet.rootPem, certificatePem: server.certificatePem, privateKeyPem: server.privateKeyPem }
}

beforeAll(async () => {
  fleet = await makeFleet()
  port = (await startMosquitto({ ...(await mosquittoIdentity()), requireCertificate: false })).port
})

/** A hand-made MQTT 5.0 profile for mosquitto (anonymous, server verified against the root). */
function profile(clientId: string, more: Partial<ConnectionProfile> = {}): ConnectionProfile {
  return {
    host: 'localhost',
    port,
    clientId,
    protocolVersion: 5,
    keepalive: 30,
    clean: true,
    connectTimeoutMs: 8000,
    tls: { verification: { mode: 'pem', caPem: fleet.rootPem }, client: { mode: 'none' } },
    ...more,
  }
}

function collector() {
  const events: TesterEvent[] = []
  const sessions = new TesterSessions((event) => events.push(event))
  const messages = (sessionId: string) =>
    events.flatMap((e) => (e.type === 'tester-messages' && e.sessionId === sessionId ? e.messages : []))
  const received = (sessionId: string) => messages(sessionId).filter((m) => m.direction === 'in')
  const waitFor = async (sessionId: string, predicate: (all: TesterMessage[]) => boolean) => {
    await expect.poll(() => predicate(received(sessionId)), { timeout: 5000 }).toBe(true)
  }
  const open = async (connection: ConnectionProfile) => {
    const opened = await sessions.connect(connection)
    if (!('sessionId' in opened)) throw new Error(JSON.stringify(opened.diagnosis))
    return opened.sessionId
  }
  const stateOf = (sessionId: string) => events.filter((e) => e.type === 'tester-state' && e.sessionId === sessionId).at(-1)
  whenFileEnds(() => sessions.closeAll())
  return { events, sessions, messages, received, waitFor, open, stateOf }
}

const text = (message: TesterMessage) => Buffer.from(message.payloadBase64, 'base64').toString()

/** A TCP relay in front of mosquitto: `cut()` drops every connection through it, as a network failure would. */
async function relay(): Promise<{ port: number; cut(): void }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const outbound = tcpConnect(port, '127.0.0.1')
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => sockets.delete(socket))
    }
    inbound.pipe(outbound).pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  whenFileEnds(() => new Promise((resolve) => server.close(resolve)))
  return {
    port: (server.address() as { port: number }).port,
    cut: () => sockets.forEach((socket) => socket.resetAndDestroy()),
  }
}

describe('MQTT 5.0 through a real mosquitto', () => {
  it('carries user properties, content type, message expiry, response topic and correlation data both ways', async () => {
    const { sessions, messages, received, waitFor, open } = collector()
    const responder = await open(profile('lab-responder'))
    const requester = await open(profile('lab-requester'))
    await sessions.subscribe(responder, 'lab/requests/#', 1)
    await sessions.subscribe(requester, 'lab/replies/requester', 1)

    const request = {
      // A name given twice stays twice, in order.
      userProperties: [
        { key: 'site', value: 'north' },
        { key: 'site', value: 'south' },
        { key: 'unit', value: '°C' },
      ],
      contentType: 'application/json',
      messageExpiryInterval: 60,
      responseTopic: 'lab/replies/requester',
      correlationData: 'request-0001',
    }
    await sessions.publish(requester, {
      topic: 'lab/requests/read',
      payload: '{"n": 1}',
      encoding: 'json',
      qos: 1,
      retain: false,
      properties: request,
    })
    await waitFor(responder, (all) => all.length === 1)
    const [incoming] = received(responder)
    expect(incoming.topic).toBe('lab/requests/read')
    expect(text(incoming)).toBe('{"n":1}')
    // mosquitto forwards the expiry as what is left of it.
    const { messageExpiryInterval, ...rest } = incoming.properties ?? {}
    expect(rest).toEqual({
      userProperties: request.userProperties,
      contentType: 'application/json',
      responseTopic: 'lab/replies/requester',
      correlationData: 'request-0001',
    })
    expect(messageExpiryInterval).toBeGreaterThan(0)
    expect(messageExpiryInterval).toBeLessThanOrEqual(60)
    // The log shows what was sent too.
    expect(messages(requester).find((m) => m.direction === 'out')?.properties).toEqual(request)

    // The responder answers where it was told, with the correlation data it got.
    await sessions.publish(responder, {
      topic: incoming.properties?.responseTopic ?? '',
      payload: 'ok',
      encoding: 'text',
      qos: 1,
      retain: false,
      properties: { correlationData: incoming.properties?.correlationData, contentType: 'text/plain', userProperties: [] },
    })
    await waitFor(requester, (all) => all.length === 1)
    expect(received(requester)[0]).toMatchObject({
      topic: 'lab/replies/requester',
      properties: { correlationData: 'request-0001', contentType: 'text/plain' },
    })
    // A message published with none carries none.
    await sessions.publish(requester, { topic: 'lab/requests/plain', payload: 'x', encoding: 'text', qos: 1, retain: false })
    await waitFor(responder, (all) => all.length === 2)
    expect(received(responder)[1].properties).toBeUndefined()
  })

  it('sends the CONNECT properties: a session expiry interval keeps the session and its queued message across a reconnect', async () => {
    const { sessions, received, waitFor, open } = collector()
    const connectProperties = { sessionExpiryInterval: 300, receiveMaximum: 5, userProperties: [{ key: 'purpose', value: 'test' }] }
    const kept = await open(profile('lab-kept', { connectProperties }))
    // Without the property, MQTT 5 ends the session with the connection.
    const gone = await open(profile('lab-gone'))
    for (const sessionId of [kept, gone]) {
      await sessions.subscribe(sessionId, `lab/queued/${sessionId}`, 1)
      await sessions.disconnect(sessionId)
    }
    const publisher = await open(profile('lab-publisher'))
    for (const sessionId of [kept, gone]) {
      await sessions.publish(publisher, {
        topic: `lab/queued/${sessionId}`,
        payload: 'while away',
        encoding: 'text',
        qos: 1,
        retain: false,
      })
    }

    const keptAgain = await open(profile('lab-kept', { clean: false, connectProperties }))
    await waitFor(keptAgain, (all) => all.length === 1)
    expect(received(keptAgain)[0]).toMatchObject({ topic: `lab/queued/${kept}`, qos: 1 })
    const goneAgain = await open(profile('lab-gone', { clean: false }))
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(received(goneAgain)).toEqual([])
  })

  it('has its will published when the line drops, and says the connection was lost', async () => {
    const { sessions, received, waitFor, open, stateOf } = collector()
    const line = await relay()
    const watcher = await open(profile('lab-watcher'))
    await sessions.subscribe(watcher, 'lab/status/#', 1)
    const will = { topic: 'lab/status/lab-dropped', payload: '6f 66 66', encoding: 'hex' as const, qos: 1 as const, retain: false }
    const dropped = await open(profile('lab-dropped', { port: line.port, will }))

    line.cut()
    await waitFor(watcher, (all) => all.some((m) => m.topic === 'lab/status/lab-dropped'))
    expect(text(received(watcher)[0])).toBe('off')
    await expect
      .poll(() => stateOf(dropped), { timeout: 3000 })
      .toEqual({
        type: 'tester-state',
        sessionId: dropped,
        state: 'disconnected',
        reason: 'The connection was lost: read ECONNRESET.',
        reasonMessage: { key: 'tester.connectionLost', params: { error: 'read ECONNRESET' } },
      })

    // A clean disconnect sends no will.
    const polite = await open(profile('lab-polite', { will: { ...will, topic: 'lab/status/lab-polite' } }))
    await sessions.disconnect(polite)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(received(watcher).map((m) => m.topic)).toEqual(['lab/status/lab-dropped'])
  })

  it("reports the reason code of the broker's MQTT 5 DISCONNECT, and the will it then publishes", async () => {
    // A mosquitto that takes packets of 1,000 bytes at most, and says so with DISCONNECT 0x95.
    const small = await startMosquitto({ ...(await mosquittoIdentity()), requireCertificate: false, extraConfig: ['max_packet_size 1000'] })
    const { sessions, waitFor, open, stateOf } = collector()
    const watcher = await open(profile('lab-watcher-2', { port: small.port }))
    await sessions.subscribe(watcher, 'lab/status/#', 1)
    const will = { topic: 'lab/status/lab-big', payload: 'gone', encoding: 'text' as const, qos: 0 as const, retain: false }
    const big = await open(profile('lab-big', { port: small.port, will }))
    await sessions.publish(big, { topic: 'lab/big', payload: 'x'.repeat(2000), encoding: 'text', qos: 0, retain: false })
    await expect
      .poll(() => stateOf(big), { timeout: 3000 })
      .toEqual({
        type: 'tester-state',
        sessionId: big,
        state: 'disconnected',
        reason: 'The broker disconnected the session with reason code 149 (Packet too large).',
        reasonMessage: { key: 'tester.disconnectedWithCode', params: { code: 149, name: 'Packet too large' } },
        reasonCode: 149,
      })
    await waitFor(watcher, (all) => all.some((m) => m.topic === 'lab/status/lab-big' && text(m) === 'gone'))
  })

  it(`holds at most ${MAX_TESTER_SESSIONS} connections at once, counting those still connecting, and says so`, async () => {
    const { sessions, open } = collector()
    const attempts = await Promise.allSettled(
      Array.from({ length: MAX_TESTER_SESSIONS + 1 }, (_, n) => sessions.connect(profile(`lab-many-${n}`))),
    )
    const refused = attempts.filter((attempt) => attempt.status === 'rejected')
    expect(refused).toHaveLength(1)
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      code: 'CONFLICT',
      message: `The tester holds at most ${MAX_TESTER_SESSIONS} connections at once; disconnect one before opening another.`,
    })
    const opened = attempts.flatMap((attempt) =>
      attempt.status === 'fulfilled' && 'sessionId' in attempt.value ? [attempt.value.sessionId] : [],
    )
    expect(opened).toHaveLength(MAX_TESTER_SESSIONS)
    await sessions.disconnect(opened[0])
    await open(profile('lab-many-again'))
    await sessions.closeAll()
  })
})
