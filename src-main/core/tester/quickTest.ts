import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { withBrokerReason } from './brokerReason'
import { checkClientMaterial, diagnoseFailure, diagnosis } from './diagnosis'
import { message } from '../messages'
import type { Diagnosis, QuickTestResult } from './types'

export type { QuickTestResult }
import { type ConnectionProfile, toMqttOptions } from './connectionProfile'

const QUICK_TEST_TOPIC = '/hello'
const QUICK_TEST_PAYLOAD = JSON.stringify({ hello: 'world' })

export interface QuickTestOptions {
  /** The data folder of a Certdesk broker being tested: its logged reason joins the diagnosis. */
  certdeskDataDir?: string
}

function connectClient(profile: ConnectionProfile, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    let client: MqttClient
    try {
      client = mqtt.connect(options)
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

/**
 * The seed's check: connect, subscribe /hello, publish {"hello": "world"}, wait for it to come
 * back. Reports pass or fail with timings, and on failure a diagnosis with the next step.
 */
export async function runQuickTest(profile: ConnectionProfile, options: QuickTestOptions = {}): Promise<QuickTestResult> {
  const start = Date.now()
  const base = { host: profile.host, port: profile.port, clientId: profile.clientId }
  const fail = async (diagnosis: Diagnosis, connectMs?: number): Promise<QuickTestResult> => ({
    ...base,
    pass: false,
    connectMs,
    totalMs: Date.now() - start,
    diagnosis: await withBrokerReason(diagnosis, options.certdeskDataDir, profile, start),
  })
  // A request no broker should be sent (MQTT 5 properties on 3.1.1, say) is refused, not tested.
  const mqttOptions = toMqttOptions(profile)

  const materialProblem = checkClientMaterial(profile)
  if (materialProblem) return fail(materialProblem)

  let client: MqttClient
  try {
    client = await connectClient(profile, mqttOptions)
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
      diagnosis('connection-closed', {
        summary: message('diagnosis.roundTripFailed', { error: (error as Error).message }),
        nextStep: message('diagnosis.roundTripFailedNext'),
      }),
      connectMs,
    )
  }
}
