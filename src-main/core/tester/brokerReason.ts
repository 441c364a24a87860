// Certdesk's own broker logs why it refuses or drops a client (broker-log.jsonl in the data
// folder, whichever process runs it): the tester reads that reason back for its diagnoses and
// for a dropped session, so the operator sees the broker's word and not only the symptom.
import { readConnectionLog } from '../broker/connectionLog'
import type { ConnectionLogEntry } from '../broker/types'
import type { DiagnosableProfile } from './diagnosis'
import type { Diagnosis } from './types'

/**
 * The broker's log entry, with its reason, for refusing (`refused`) or dropping (`disconnected`)
 * `clientId` at `since` or just before. The broker writes its log asynchronously: this waits a
 * moment for it.
 */
export async function loggedBrokerReason(
  dataDir: string,
  clientId: string,
  since: number,
  result: Extract<ConnectionLogEntry['result'], 'refused' | 'disconnected'>,
): Promise<(ConnectionLogEntry & { reason: string }) | undefined> {
  // A refusal is logged after the attempt began (`since`): an earlier line is an earlier attempt's,
  // which the log (written in batches) may still show first. A drop is noticed by the client
  // after the broker logged it, so its line may be up to a second before `since`.
  const earliest = result === 'refused' ? since : since - 1000
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = (await readConnectionLog(dataDir))
      .filter((e) => e.clientId === clientId && e.result === result && Date.parse(e.time) >= earliest)
      .at(-1)
    if (entry?.reason) return { ...entry, reason: entry.reason }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return undefined
}

/**
 * An MQTT refusal's diagnosis, with the reason the broker of `dataDir` logged for it when it did.
 * Only when the profile dials that broker (profileSources marks it): another broker's refusal is
 * not looked up in Certdesk's log, which would cost the wait and could borrow a stale reason.
 */
export async function withBrokerReason(
  diagnosis: Diagnosis,
  dataDir: string | undefined,
  profile: DiagnosableProfile,
  since: number,
): Promise<Diagnosis> {
  if (!dataDir || !profile.certdeskBroker || !diagnosis.code.startsWith('mqtt-')) return diagnosis
  const entry = await loggedBrokerReason(dataDir, profile.clientId, since, 'refused')
  if (!entry) return diagnosis
  const messages =
    diagnosis.messages && entry.reasonMessage ? { ...diagnosis.messages, brokerReason: entry.reasonMessage } : diagnosis.messages
  return { ...diagnosis, brokerReason: entry.reason, ...(messages ? { messages } : {}) }
}
