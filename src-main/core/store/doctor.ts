import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isCertdeskError } from '../errors'
import { LOCK_FILE, clearDeadLock, lockHolderIsGone, withFolderLock } from './folderLock'
import { INDEX_BACKUP_FILE, INDEX_FILE, RECORDS_DIR, RegistryStore, leftoversIn } from './registryStore'
import { certificateFault, namedRecordIds, readRecordFile, recordPath } from './recordFiles'
import { VAULT_KEY_FILE } from './vault'
import { auditContext } from './audit'
import type { AuditActor } from './schema'

/** Where repair moves record files the index does not name: kept, never deleted (they hold keys). */
const ORPHANED_DIR = 'orphaned'

interface DoctorFinding {
  /** What was looked at: "index", "leftovers", "lock", "vault", "records", "bindings". */
  check: string
  /** ok: nothing wrong; repaired: it was wrong and is mended; problem: still wrong. */
  status: 'ok' | 'repaired' | 'problem'
  message: string
}

export interface DoctorReport {
  dataDir: string
  healthy: boolean
  findings: DoctorFinding[]
}

export interface DoctorOptions {
  /** Set orphan records aside and drop dangling bindings. (Leftovers and dead locks are always cleared.) */
  repair?: boolean
  /** With the index missing: put the newest backup in its place. */
  restoreIndex?: boolean
  passphrase?: string
  actor?: AuditActor
}

/** The index backups in a folder, newest first: the last-write backup, then migration backups. */
function indexBackups(dataDir: string): string[] {
  return readdirSync(dataDir)
    .filter((entry) => entry === INDEX_BACKUP_FILE || /^config\.json\.schema-\d+\.bak$/.test(entry))
    .map((entry) => ({ entry, time: statSync(join(dataDir, entry)).mtimeMs }))
    .sort((a, b) => b.time - a.time)
    .map(({ entry }) => entry)
}

/**
 * `certdesk doctor`: checks a data folder the way an operator would want after a crash, a bad
 * restore or a sync accident, and with `repair` mends what can be mended without losing a key.
 */
export async function checkDataFolder(dataDir: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const findings: DoctorFinding[] = []
  const add = (check: string, status: DoctorFinding['status'], message: string) => findings.push({ check, status, message })
  const report = (): DoctorReport => ({ dataDir, healthy: findings.every((f) => f.status !== 'problem'), findings })

  // 1. The index.
  if (!existsSync(join(dataDir, INDEX_FILE))) {
    const backups = existsSync(dataDir) ? indexBackups(dataDir) : []
    if (options.restoreIndex && backups.length > 0) {
      const kept = await RegistryStore.restoreIndex(dataDir, backups[0])
      add(
        'index',
        'repaired',
        kept === 'tables'
          ? `${INDEX_FILE} was missing; restored it from ${backups[0]} with the table files on disk, so only settings changed after that backup are not in it.`
          : `${INDEX_FILE} was missing; restored it from ${backups[0]}. Changes made after that backup are not in it.`,
      )
    } else {
      const hint =
        backups.length > 0 ? `run "certdesk doctor --restore-index" to restore it from ${backups[0]}` : 'restore it from your own backup'
      add('index', 'problem', `${INDEX_FILE} is missing; ${hint}.`)
      return report()
    }
  }
  // 2. Leftovers of killed processes, and a lock whose holder is gone. Every open of the folder
  // sweeps them (under the lock), so they are counted before and after this one.
  const leftoversBefore = leftoversIn(dataDir).length
  const deadLock = existsSync(join(dataDir, LOCK_FILE)) && lockHolderIsGone(dataDir)
  let store: RegistryStore
  try {
    store = await RegistryStore.open(dataDir, { passphrase: options.passphrase, actor: options.actor })
  } catch (error) {
    add('index', 'problem', isCertdeskError(error) ? error.message : `The index cannot be read (${String(error)}).`)
    return report()
  }
  add('index', 'ok', `${INDEX_FILE} is readable and well-formed.`)
  const leftoversAfter = leftoversIn(dataDir).length
  if (leftoversBefore > leftoversAfter)
    add(
      'leftovers',
      'repaired',
      `Removed ${leftoversBefore - leftoversAfter} temporary file(s) or unfinished batch folder(s) left by a killed process.`,
    )
  else add('leftovers', 'ok', 'No temporary files or unfinished batches are left over.')
  if (deadLock) {
    // Opening may already have cleared it (it takes the lock to sweep leftovers).
    clearDeadLock(dataDir)
    add('lock', 'repaired', 'Cleared a lock left by a process that no longer runs.')
  } else
    add(
      'lock',
      'ok',
      existsSync(join(dataDir, LOCK_FILE)) ? 'The folder is locked by a running Certdesk process.' : 'The folder is not locked.',
    )

  // 3. The vault.
  const data = store.read()
  const protectionName = { keyfile: 'key file', passphrase: 'passphrase', 'os-keychain': "the desktop app's OS keychain" }[
    data.vault.protection
  ]
  if (data.vault.protection === 'keyfile' && !existsSync(join(dataDir, VAULT_KEY_FILE))) {
    add(
      'vault',
      'problem',
      `The vault key file ${VAULT_KEY_FILE} is missing: the private keys cannot be decrypted. Restore it from a backup.`,
    )
  } else {
    try {
      await store.unlock()
      add('vault', 'ok', `The vault opens (${protectionName}).`)
    } catch (error) {
      // Keys that open elsewhere (with the passphrase, or in the app) are not a fault of the folder.
      const elsewhere = isCertdeskError(error) && (error.code === 'PASSPHRASE_REQUIRED' || error.code === 'KEYCHAIN_REQUIRED')
      add(
        'vault',
        elsewhere ? 'ok' : 'problem',
        elsewhere
          ? `The vault is protected by ${protectionName}; not opened here.`
          : isCertdeskError(error)
            ? error.message
            : String(error),
      )
    }
  }
  // A key file left behind when the protection moved away from it would undo that protection.
  if (data.vault.protection !== 'keyfile' && existsSync(join(dataDir, VAULT_KEY_FILE))) {
    // Removed only when it is provably redundant: the vault opened the other way, to the same key.
    if (options.repair && store.isUnlocked() && (await store.keyFileHoldsVaultKey())) {
      rmSync(join(dataDir, VAULT_KEY_FILE), { force: true })
      add(
        'stray key file',
        'repaired',
        `Removed ${VAULT_KEY_FILE}: the vault is protected by ${protectionName}, and a key file beside it would open it for anyone.`,
      )
    } else {
      add(
        'stray key file',
        'problem',
        `${VAULT_KEY_FILE} is still in the folder although the vault is protected by ${protectionName}; --repair removes it once the vault opens (give --passphrase-env).`,
      )
    }
  }

  // Device keys (MQTT passwords) are sealed too: each must open, or the broker refuses its device.
  if (store.isUnlocked()) {
    const devices = data.devices.all()
    const unreadable = devices.filter((device) => {
      try {
        store.openDeviceKey(device)
        return false
      } catch {
        return true
      }
    })
    if (unreadable.length === 0) add('device keys', 'ok', `All ${devices.length} device keys open.`)
    else {
      add(
        'device keys',
        'problem',
        `The device keys of ${unreadable.map((device) => device.deviceId).join(', ')} cannot be decrypted; run "certdesk device regenerate-key" for each (their devices then need the new key).`,
      )
    }
  }

  // 4. Every record the index names exists and holds the certificate the index describes.
  // Read and checked as the store reads them, so doctor finds what a read would refuse.
  const named = namedRecordIds(data)
  let damaged = 0
  for (const recordId of named) {
    let problem: string | undefined
    try {
      const fault = certificateFault(data, recordId, (await readRecordFile(dataDir, recordId)).certificatePem)
      if (fault === 'unreadable') problem = 'is damaged'
      else if (fault === 'different') problem = 'holds a different certificate than the index records'
    } catch {
      problem = existsSync(recordPath(dataDir, recordId)) ? 'is damaged' : 'is missing'
    }
    if (problem !== undefined) {
      damaged += 1
      add('records', 'problem', `The record file of ${recordId} ${problem}; restore ${RECORDS_DIR}/${recordId}.json from a backup.`)
    }
  }
  if (damaged === 0) add('records', 'ok', `All ${named.size} record files match the fingerprints in the index.`)

  // 5. Record files the index does not name. Listed again under the lock before anything moves:
  // a batch committing meanwhile (index first, then its files) must not look orphaned.
  const orphansIn = (current: typeof data) => {
    const names = namedRecordIds(current)
    return readdirSync(join(dataDir, RECORDS_DIR), { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.json') && !names.has(entry.name.slice(0, -5)))
      .map((entry) => entry.name)
  }
  const orphans = orphansIn(data)
  if (orphans.length === 0) add('orphans', 'ok', 'No record file is unknown to the index.')
  else if (options.repair) {
    const aside = join(dataDir, ORPHANED_DIR)
    const moved = await withFolderLock(dataDir, async () => {
      const confirmed = orphansIn(store.read())
      await mkdir(aside, { recursive: true, mode: 0o700 })
      for (const name of confirmed) renameSync(join(dataDir, RECORDS_DIR, name), join(aside, name))
      return confirmed.length
    })
    add('orphans', 'repaired', `Moved ${moved} record file(s) the index does not name to ${aside} (kept: they hold private keys).`)
  } else {
    add(
      'orphans',
      'problem',
      `${orphans.length} record file(s) are not named by the index (${orphans.slice(0, 3).join(', ')}${orphans.length > 3 ? ', …' : ''}); --repair sets them aside.`,
    )
  }

  // 6. Bindings that point at nothing.
  const dangling = (d: typeof data) =>
    d.bindings.all().filter((b) => !d.certificates.has(b.certificateId) || !d.devices.has(b.deviceRecordId))
  const count = dangling(data).length
  if (count === 0) add('bindings', 'ok', `All ${data.bindings.all().length} bindings name an existing certificate and device.`)
  else if (options.repair) {
    await auditContext.run({ action: 'doctor.remove-bindings', detail: { count } }, () =>
      store.mutate((d) => {
        for (const binding of dangling(d)) d.bindings.remove(binding.certificateId, binding.deviceRecordId)
      }),
    )
    add('bindings', 'repaired', `Removed ${count} binding(s) to a certificate or device that no longer exists.`)
  } else add('bindings', 'problem', `${count} binding(s) name a certificate or device that does not exist; --repair removes them.`)

  // 7. The lookup keys (device IDs, names, fingerprints) against the records they find.
  const keyProblems = store.lookupKeyProblems()
  if (keyProblems.length === 0) add('lookups', 'ok', 'Every device ID, certificate name and fingerprint finds its record.')
  else if (options.repair) {
    await auditContext.run({ action: 'doctor.rebuild-lookups', detail: { count: keyProblems.length } }, () => store.rebuildLookupKeys())
    add('lookups', 'repaired', `Rebuilt ${keyProblems.length} lookup key(s) from the records.`)
  } else
    add(
      'lookups',
      'problem',
      `${keyProblems.length} lookup key(s) do not match the records (${keyProblems.slice(0, 3).join(', ')}${keyProblems.length > 3 ? ', …' : ''}); --repair rebuilds them.`,
    )

  return report()
}
