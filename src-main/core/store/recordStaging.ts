import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { processOfThisHostIsGone } from './folderLock'
import { INDEX_FILE, RECORDS_DIR, STAGING_PREFIX } from './layout'
import type { RecordFile } from './recordFiles'

/**
 * Record files (a certificate's PEM and sealed key) made before the change that names them, held
 * here until `RegistryStore.mutate` writes them in that change's commit: a crash or a refusal
 * before it leaves nothing on disk. A change may also `remove` records (a deleted certificate's,
 * a replaced broker identity's), in the same commit.
 */
export class RecordStaging {
  private readonly written = new Map<string, RecordFile>()
  private readonly removed = new Set<string>()

  constructor(private readonly seal: (recordId: string, material: RecordMaterial) => Promise<RecordFile>) {}

  async write(recordId: string, material: RecordMaterial): Promise<void> {
    this.written.set(recordId, await this.seal(recordId, material))
  }

  /** Leaves a record out of the commit (a change that decided not to name it). */
  forget(recordId: string): void {
    this.written.delete(recordId)
  }

  /** Removes a record in the commit; called inside the change, once it knows which. */
  remove(recordId: string): void {
    this.removed.add(recordId)
  }

  /** What the commit writes and removes. */
  changes(): { written: [string, RecordFile][]; removed: string[] } {
    return { written: [...this.written], removed: [...this.removed] }
  }

  discard(): void {
    this.written.clear()
    this.removed.clear()
  }
}

export interface RecordMaterial {
  certificatePem: string
  /** Null for a certificate signed from a device's own request: Certdesk never held its key. */
  privateKeyPem: string | null
}

/**
 * Temporary files and (from schema 2) staging folders that a killed process left behind.
 */
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
  } catch {
    // A folder that is not there has nothing left over.
  }
  try {
    for (const entry of readdirSync(join(dataDir, RECORDS_DIR))) {
      if (isDeadStaging(entry) || /^\..+\.[0-9a-f]{12}\.tmp$/.test(entry)) found.push(join(dataDir, RECORDS_DIR, entry))
    }
  } catch {
    // Schema 3 keeps no records folder.
  }
  return found
}
