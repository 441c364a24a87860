import { randomBytes } from 'node:crypto'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { ownEntry } from '../registry/lookup'
import { normaliseName } from '../registry/validation'
import type { RegistryStore } from '../store/registryStore'
import type { TesterProfileRecord } from '../store/schema'
import { SECRET_FIELDS } from './types'

// The tester's saved profiles: quick-test requests kept by name in the store, secrets stripped.

const SECRET_FIELD_SET: ReadonlySet<string> = new Set(SECRET_FIELDS)

/** A copy of `value` without any SECRET_FIELDS key, at any depth (objects and arrays alike). */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !SECRET_FIELD_SET.has(key))
      .map(([key, inner]) => [key, withoutSecrets(inner)]),
  )
}

export function listTesterProfiles(store: RegistryStore): TesterProfileRecord[] {
  return Object.values(store.read().testerProfiles ?? {}).sort((a, b) => a.name.localeCompare(b.name))
}

/** Saves (or replaces, by name) a profile with its secrets stripped. */
export function saveTesterProfile(store: RegistryStore, name: string, request: Record<string, unknown>): Promise<TesterProfileRecord> {
  const profileName = normaliseName(name, 'profile')
  return store.mutate((data) => {
    const profiles = (data.testerProfiles ??= {})
    const existing = Object.values(profiles).find((p) => p.name.toLocaleLowerCase() === profileName.toLocaleLowerCase())
    const record: TesterProfileRecord = {
      id: existing?.id ?? `tp_${randomBytes(5).toString('hex')}`,
      name: profileName,
      request: withoutSecrets(request) as Record<string, unknown>,
      createdAt: new Date().toISOString(),
    }
    profiles[record.id] = record
    return record
  })
}

export function deleteTesterProfile(store: RegistryStore, id: string): Promise<TesterProfileRecord> {
  return store.mutate((data) => {
    const record = ownEntry(data.testerProfiles, id)
    if (!record || !data.testerProfiles) throw new CertdeskError('NOT_FOUND', message('tester.noSavedProfile', { id }))
    delete data.testerProfiles[id]
    return record
  })
}
