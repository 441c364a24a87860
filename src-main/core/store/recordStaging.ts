import { readdirSync, renameSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CertdeskError } from '../errors'
import { writeFailure } from './files'
import { processOfThisHostIsGone } from './folderLock'
import { INDEX_FILE, RECORDS_DIR, STAGING_PREFIX } from './layout'
import type { RegistryStore } from './registryStore'

/**
 * New record files (a batch of certificates, a broker identity) written in a folder of their own
 * until the index names them. A crash before that leaves only this folder, which the next open
 * removes once its process is gone; the records folder never holds keys the index does not know.
 */
export class RecordStaging {
  private readonly written = new Set<string>()
  /** Set when committed records could not be moved: the folder must stay until they are. */
  private keep = false

  constructor(
    private readonly store: RegistryStore,
    readonly dir: string,
    private readonly recordsDir: string,
  ) {}

  async write(recordId: string, material: { certificatePem: string; privateKeyPem: string | null }): Promise<void> {
    try {
      await this.store.writeRecordMaterial(recordId, material, this.dir)
    } catch (error) {
      // Name the folder the operator knows, not the staging folder.
      throw error instanceof CertdeskError && error.code === 'IO'
        ? writeFailure(error.cause, join(this.recordsDir, `${recordId}.json`))
        : error
    }
    this.written.add(recordId)
  }

  /** Leaves a record out of the commit (a change that decided not to name it); `discard` removes it. */
  forget(recordId: string): void {
    this.written.delete(recordId)
  }

  /**
   * Called by `mutate` under the lock, right after the index that names these records is written.
   * A file that cannot be moved stays here, where readers look too (`readRecordFile`), and is
   * moved by the next open once this process is gone; the committed change is not undone.
   */
  moveIntoPlace(): void {
    for (const recordId of this.written) {
      try {
        renameSync(join(this.dir, `${recordId}.json`), join(this.recordsDir, `${recordId}.json`))
      } catch {
        this.keep = true
      }
    }
    this.written.clear()
  }

  async discard(): Promise<void> {
    this.written.clear()
    if (!this.keep) await rm(this.dir, { recursive: true, force: true })
  }
}

/** Temporary files and staging folders that a killed process left behind. */
export function leftoversIn(dataDir: string): string[] {
  const found: string[] = []
  const isDeadStaging = (entry: string) => {
    if (!entry.startsWith(STAGING_PREFIX)) return false
    const [hostTag, pid] = entry.slice(STAGING_PREFIX.length).split('-')
    return processOfThisHostIsGone(hostTag, Number(pid))
  }
  try {
    for (const entry of readdirSync(dataDir)) {
      // Temporary index copies (ours, and those of `conf`, which wrote the index before), and an
      // interrupted init's vault key. (The connection log's temporary file is not written under
      // the lock, so it is not swept.)
      if (entry.startsWith(`${INDEX_FILE}.tmp-`) || /^\.(vault\.key|config\.json)\.[0-9a-f]{12}\.tmp$/.test(entry))
        found.push(join(dataDir, entry))
    }
    for (const entry of readdirSync(join(dataDir, RECORDS_DIR))) {
      if (isDeadStaging(entry) || /^\..+\.[0-9a-f]{12}\.tmp$/.test(entry)) found.push(join(dataDir, RECORDS_DIR, entry))
    }
  } catch {
    // A folder that is not there has nothing left over.
  }
  return found
}
