import mqtt, { type MqttClient } from 'mqtt'
import { readConnectionLog } from '../broker/connectionLog'
import { checkClientMaterial, diagnoseFailure } from './diagnosis'
import type { Diagnosis, QuickTestResult } from './types'

export type { QuickTestResult }
import { type ConnectionProfile, toMqttOptions } from './connectionProfile'

const QUICK_TEST_TOPIC = '/hello'
const QUICK_TEST_PAYLOAD = JSON.stringify({ hello: 'world' })

export interface QuickTestOptions {
  /** The data folder of a Certdesk broker being tested: its logged reason joins the diagnosis. */
  certdeskDataDir?: string
}

function connectClient(profile: ConnectionProfile): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    let client: MqttClient
    try {
      client = mqtt.connect(toMqttOptions(profile))
    } catch (error) {
      reject(error)
      return
    }
    const timer = setTimeout(() => {
      client.end(true)
      reject(Object.assign(new Error(`no answer within ${profile.connectTimeoutMs} ms`), { code: 'TIMEOUT' }))
    }, profile.connectTimeoutMs)
    client.once('connect', () => {
      clearTimeout(timer)
      resolve(client)
    })
    client.once('error', (error) => {
      clearTimeout(timer)
      client.end(true)
      reject(error)
    })
    client.once('close', () => {
      clearTimeout(timer)
      reject(Object.assign(new Error('the connection closed before the broker answered'), { code: 'CLOSED' }))
    })
  })
}

/** The broker's own word on why it refused, when the broker is Certdesk's and logged it. */
async function brokerReason(dataDir: string, clientId: string, since: number): Promise<string | undefined> {
  // The broker writes its log asynchronously; give it a moment.
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = (await readConnectionLog(dataDir))
      .filter((e) => e.clientId === clientId && e.result !== 'accepted' && Date.parse(e.time) >= since - 1000)
      .at(-1)
    if (entry?.reason) return entry.reason
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return undefined
}

/**
 * The seed's check: connect, subscribe /hello, publish {"hello": "world"}, wait for it to come
 * back. Reports pass or fail with timings, and on failure a diagnosis with the next step.
 */
export async function runQuickTest(profile: ConnectionProfile, options: QuickTestOptions = {}): Promise<QuickTestResult> {
  const start = Date.now()
  const base = { host: profile.host, port: profile.port, clientId: profile.clientId }
  const fail = async (diagnosis: Diagnosis, connectMs?: number): Promise<QuickTestResult> => {
    if (options.certdeskDataDir && diagnosis.code.startsWith('mqtt-')) {
      diagnosis.brokerReason = await brokerReason(options.certdeskDataDir, profile.clientId, start)
    }
    return { ...base, pass: false, connectMs, totalMs: Date.now() - start, diagnosis }
  }

  const materialProblem = checkClientMaterial(profile)
  if (materialProblem) return fail(materialProblem)

  let client: MqttClient
  try {
    client = await connectClient(profile)
  } catch (error) {
    return fail(await diagnoseFailure(error as Error & { code?: string | number }, profile))
  }
  const connectMs = Date.now() - start
  try {
    await client.subscribeAsync(QUICK_TEST_TOPIC, { qos: 1 })
    const received = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the message did not come back within 5 s')), 5000)
      client.on('message', (topic, payload) => {
        if (topic === QUICK_TEST_TOPIC && payload.toString() === QUICK_TEST_PAYLOAD) {
          clearTimeout(timer)
          resolve()
        }
      })
      client.once('close', () => reject(new Error('the broker closed the connection during the test')))
    })
    const published = Date.now()
    await client.publishAsync(QUICK_TEST_TOPIC, QUICK_TEST_PAYLOAD, { qos: 1 })
    await received
    const roundTripMs = Date.now() - published
    await client.endAsync()
    return { ...base, pass: true, connectMs, roundTripMs, totalMs: Date.now() - start }
  } catch (error) {
    client.end(true)
    return fail(
      {
        code: 'connection-closed',
        summary: `Connected, but the round trip failed: ${(error as Error).message}.`,
        nextStep: 'Check that the broker lets this client subscribe and publish to /hello.',
      },
      connectMs,
    )
  }
}
