// Record files (records/<id>.json): their format, and the one reader and writer of it, used by
// the store and by doctor alike.
import { X509Certificate } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { ensurePrivateDirectory, writeFileAtomic } from './files'
import { RECORDS_DIR, ROOT_CA_RECORD_ID, STAGING_PREFIX } from './layout'
import type { SealedBox, StoreData } from './schema'

/** One certificate's file: its PEM and its private key sealed under the vault key (`vaultAccess`). */
export interface RecordFile {
  certificatePem: string
  /** Null for a certificate signed from a device's own request: Certdesk never held its key. */
  privateKey: (SealedBox & { format: string }) | null
}

export function recordPath(dataDir: string, recordId: string): string {
  return join(dataDir, RECORDS_DIR, `${recordId}.json`)
}

/**
 * Writes certificate and sealed key as one file: one atomic write and one flush per certificate,
 * and the two can never get out of step. `folder` is `records/` or a staging folder in it.
 */
export async function writeRecordFile(
  folder: string,
  recordId: string,
  certificatePem: string,
  privateKey: SealedBox | null,
): Promise<void> {
  await ensurePrivateDirectory(folder)
  const file: RecordFile = { certificatePem, privateKey: privateKey === null ? null : { format: 'aes-256-gcm', ...privateKey } }
  await writeFileAtomic(join(folder, `${recordId}.json`), JSON.stringify(file) + '\n')
}

/** A record's file, or (in the instant between a commit's index write and its move) its staged copy. */
async function readRecordText(dataDir: string, recordId: string): Promise<string> {
  try {
    return await readFile(recordPath(dataDir, recordId), 'utf8')
  } catch (error) {
    const recordsDir = join(dataDir, RECORDS_DIR)
    for (const entry of readdirSync(recordsDir).filter((name) => name.startsWith(STAGING_PREFIX))) {
      const staged = await readFile(join(recordsDir, entry, `${recordId}.json`), 'utf8').catch(() => undefined)
      if (staged !== undefined) return staged
    }
    throw error
  }
}

/** A record's file, parsed; a missing or damaged one is a `CORRUPT_STORE` error. */
export async function readRecordFile(dataDir: string, recordId: string): Promise<RecordFile> {
  try {
    const file = JSON.parse(await readRecordText(dataDir, recordId)) as RecordFile
    if (typeof file.certificatePem !== 'string') throw new Error('no certificate')
    return file
  } catch (error) {
    throw new CertdeskError('CORRUPT_STORE', message('store.recordDamaged', { recordId }), { cause: error })
  }
}

export async function removeRecordFile(dataDir: string, recordId: string): Promise<void> {
  await rm(recordPath(dataDir, recordId), { force: true })
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
