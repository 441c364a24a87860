// Records: a certificate's PEM and its sealed private key. Kept in the `records` table since
// schema 3 (one file per certificate, `records/<id>.json`, before); their checks against the index.
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { RECORDS_DIR, ROOT_CA_RECORD_ID } from './layout'
import type { SealedBox, StoreData } from './schema'

/** One certificate's file: its PEM and its private key sealed under the vault key (`vaultAccess`). */
export interface RecordFile {
  certificatePem: string
  /** Null for a certificate signed from a device's own request: Certdesk never held its key. */
  privateKey: (SealedBox & { format: string }) | null
}

/**
 * A schema-2 record file, `records/<id>.json`, parsed: read once, when its folder is upgraded to
 * the tables (which hold records since schema 3). A damaged one is a `CORRUPT_STORE` error.
 */
export async function readLegacyRecordFile(dataDir: string, recordId: string): Promise<RecordFile> {
  try {
    return parseRecord(await readFile(join(dataDir, RECORDS_DIR, `${recordId}.json`), 'utf8'))
  } catch (error) {
    throw new CertdeskError('CORRUPT_STORE', message('store.recordDamaged', { recordId }), { cause: error })
  }
}

function parseRecord(text: string): RecordFile {
  const file = JSON.parse(text) as RecordFile
  if (typeof file.certificatePem !== 'string') throw new Error('no certificate')
  return file
}

/** A record as the tables keep it: the certificate, and its private key sealed under the vault key. */
export function recordFileOf(certificatePem: string, privateKey: SealedBox | null): RecordFile {
  return { certificatePem, privateKey: privateKey === null ? null : { format: 'aes-256-gcm', ...privateKey } }
}

/** The records the index names: the root CA's (always), its certificates' and the broker's. */
export function namedRecordIds(data: StoreData): Set<string> {
  const named = new Set<string>([ROOT_CA_RECORD_ID, ...data.certificates.all().map((certificate) => certificate.id)])
  if (data.broker?.serverCertificate) named.add(data.broker.serverCertificate.recordId)
  return named
}

/** The fingerprint the index holds for a record file, or undefined for one it does not name. */
export function expectedFingerprint(data: StoreData, recordId: string): string | undefined {
  if (recordId === ROOT_CA_RECORD_ID) return data.rootCa?.fingerprint256
  const server = data.broker?.serverCertificate
  if (server?.recordId === recordId) return server.fingerprint256
  return data.certificates.get(recordId)?.fingerprint256
}

/**
 * What is wrong with a record's certificate: no certificate at all, or another one than the index
 * records. A record the index does not name (yet) has nothing to differ from; the root CA's is
 * always named, so with no root CA in the index any certificate there differs.
 */
export function certificateFault(data: StoreData, recordId: string, pem: string): 'unreadable' | 'different' | undefined {
  let actual: string
  try {
    actual = new X509Certificate(pem).fingerprint256
  } catch {
    return 'unreadable'
  }
  const expected = expectedFingerprint(data, recordId)
  if (expected === undefined && recordId !== ROOT_CA_RECORD_ID) return undefined
  return actual === expected ? undefined : 'different'
}

/** The PEM, if it is the certificate the index records: a swapped file is never handed out. */
export function checkedCertificatePem(data: StoreData, recordId: string, pem: string): string {
  if (certificateFault(data, recordId, pem) !== undefined) {
    throw new CertdeskError('CORRUPT_STORE', message('store.certificateMismatch', { recordId }))
  }
  return pem
}
