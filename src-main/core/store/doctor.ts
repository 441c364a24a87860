import { existsSync, readdirSync, rmSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isCertdeskError } from '../errors'
import { LOCK_FILE, clearDeadLock, lockHolderIsGone } from './folderLock'
import { INDEX_BACKUP_FILE, INDEX_FILE, RegistryStore, leftoversIn, unnamedTableFilesIn } from './registryStore'
import { certificateFault, namedRecordIds } from './recordFiles'
import { VAULT_KEY_FILE } from './vault'
import { auditContext } from './audit'
import type { AuditActor } from './schema'

/** Where repair writes records the index does not name: kept, never deleted (they hold keys). */
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

/**
 * The index backups in a folder, newest first: the last write's backup, then the migration
 * backups by schema, newest schema first. By name, not by time: a protection change rewrites
 * every backup, and an older schema's file must never win over the last write's.
 */
function indexBackups(dataDir: string): string[] {
  const schemaOf = (entry: string) => Number(/^config\.json\.schema-(\d+)\.bak$/.exec(entry)?.[1] ?? -1)
  const entries = readdirSync(dataDir)
  const migrations = entries.filter((entry) => schemaOf(entry) >= 0).sort((a, b) => schemaOf(b) - schemaOf(a))
  return [...(entries.includes(INDEX_BACKUP_FILE) ? [INDEX_BACKUP_FILE] : []), ...migrations]
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
  const leftovers = () => leftoversIn(dataDir).length + unnamedTableFilesIn(dataDir).length
  const leftoversBefore = leftovers()
  const deadLock = existsSync(join(dataDir, LOCK_FILE)) && lockHolderIsGone(dataDir)
  let store: RegistryStore
  try {
    store = await RegistryStore.open(dataDir, { passphrase: options.passphrase, actor: options.actor })
  } catch (error) {
    add('index', 'problem', isCertdeskError(error) ? error.message : `The index cannot be read (${String(error)}).`)
    return report()
  }
  add('index', 'ok', `${INDEX_FILE} is readable and well-formed.`)
  // The table files the index names: every later check reads them.
  const tableProblems = store.tableFileProblems()
  if (tableProblems.length > 0) {
    for (const problem of tableProblems) add('tables', 'problem', problem)
    return report()
  }
  add('tables', 'ok', 'Every table file the index names is there and well-formed.')
  const leftoversAfter = leftovers()
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
      const fault = certificateFault(data, recordId, (await store.readRecord(recordId)).certificatePem)
      if (fault === 'unreadable') problem = 'is damaged'
      else if (fault === 'different') problem = 'holds a different certificate than the index records'
    } catch {
      problem = 'is missing'
    }
    if (problem !== undefined) {
      damaged += 1
      add('records', 'problem', `The record of ${recordId} ${problem}; restore the data folder from a backup.`)
    }
  }
  if (damaged === 0) add('records', 'ok', `All ${named.size} records match the fingerprints in the index.`)

  // 5. Records the index does not name (a hand edit, a restore of the tables from elsewhere).
  const orphans = store.recordIds().filter((recordId) => !named.has(recordId))
  if (orphans.length === 0) add('orphans', 'ok', 'No record is unknown to the index.')
  else if (options.repair) {
    const aside = join(dataDir, ORPHANED_DIR)
    await mkdir(aside, { recursive: true, mode: 0o700 })
    // Written aside first (sealed, as they were), then removed from the tables in one commit.
    for (const recordId of orphans) {
      await writeFile(join(aside, `${recordId}.json`), `${JSON.stringify(await store.readRecord(recordId))}\n`, { mode: 0o600 })
    }
    await auditContext.run({ action: 'doctor.set-aside-records', detail: { count: orphans.length } }, () =>
      store.removeUnnamedRecords(orphans),
    )
    add('orphans', 'repaired', `Moved ${orphans.length} record(s) the index does not name to ${aside} (kept: they hold private keys).`)
  } else {
    add(
      'orphans',
      'problem',
      `${orphans.length} record(s) are not named by the index (${orphans.slice(0, 3).join(', ')}${orphans.length > 3 ? ', …' : ''}); --repair sets them aside.`,
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
