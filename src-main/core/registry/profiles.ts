import { isIP } from 'node:net'
import { CertdeskError, invalidInput } from '../errors'
import { message } from '../messages'
import { parseKeyType } from '../pki/keys'
import {
  CERTIFICATE_PROFILES,
  COMMON_NAME_SOURCES,
  type CommonNameSource,
  DEFAULT_DEVICE_PROFILE,
  DEFAULT_PROFILE_NAME,
  type DeviceProfile,
  END_ENTITY_KEY_USAGES,
  EXTENDED_KEY_USAGES,
  type ExtendedKeyUsageName,
  PROFILE_PLACEHOLDERS,
} from '../pki/profiles'
import type { RegistryStore } from '../store/registryStore'
import type { ProfileRecord, StoreData } from '../store/schema'
import { ownEntry } from './lookup'
import { validateDays } from './validation'

/*
 * Device-certificate profiles are data in the index (`profiles`), keyed by their lower-case name.
 * The built-in `default` is not stored and cannot be changed: it is what Certdesk made before
 * profiles, so existing scripts and certificates keep their meaning.
 */

/** A profile as the CLI and screens show it. */
export interface ProfileView extends DeviceProfile {
  builtIn: boolean
  createdAt?: string
  updatedAt?: string
}

/** What an operator gives to create a profile; unset fields take the default profile's values. */
export type ProfileUpdate = Partial<Omit<DeviceProfile, 'name'>>
type Flat<T> = { [K in keyof T]: T[K] }
export type ProfileInput = Flat<ProfileUpdate & { name: string }>

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const MAX_ALTERNATIVE_NAMES = 20
/** RFC 5280's upper bounds for these attributes. */
const MAX_ORGANISATION_LENGTH = 64
const ALTERNATIVE_NAME_KINDS = ['dns', 'uri', 'email', 'ip'] as const

const builtInView = (): ProfileView => ({
  ...DEFAULT_DEVICE_PROFILE,
  subjectAltNames: [],
  keyUsage: [...DEFAULT_DEVICE_PROFILE.keyUsage],
  extendedKeyUsage: [...DEFAULT_DEVICE_PROFILE.extendedKeyUsage],
  builtIn: true,
})

function profileView(record: ProfileRecord): ProfileView {
  return { ...record, builtIn: false }
}

export function listProfiles(data: StoreData): ProfileView[] {
  const stored = Object.values(data.profiles ?? {}).sort((a, b) => a.name.localeCompare(b.name))
  return [builtInView(), ...stored.map(profileView)]
}

/** The named profile (any case), or the default when none is named. */
export function findProfile(data: StoreData, name: string | undefined): ProfileView {
  if (name === undefined || name.toLowerCase() === DEFAULT_PROFILE_NAME) return builtInView()
  const record = ownEntry(data.profiles ?? {}, name.toLowerCase())
  if (!record) {
    const known = listProfiles(data).map((profile) => profile.name)
    throw new CertdeskError('NOT_FOUND', message('profile.notFound', { name, choices: known.join(', ') }))
  }
  return profileView(record)
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

function optionalText(value: unknown, field: 'organization' | 'organizationalUnit'): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string' || value.trim() === '' || [...value].length > MAX_ORGANISATION_LENGTH || CONTROL_CHARACTERS.test(value)) {
    throw invalidInput(message('profile.badText', { field, max: MAX_ORGANISATION_LENGTH }))
  }
  return value.trim()
}

function alternativeName(entry: unknown): string {
  const text = typeof entry === 'string' ? entry.trim() : ''
  const colon = text.indexOf(':')
  const kind = text.slice(0, colon) as (typeof ALTERNATIVE_NAME_KINDS)[number]
  const value = text.slice(colon + 1)
  if (colon < 1 || !ALTERNATIVE_NAME_KINDS.includes(kind) || value === '' || /\s/.test(value)) {
    throw invalidInput(message('profile.badAlternativeName', { value: String(entry) }))
  }
  for (const placeholder of value.match(/\{[^}]*\}/g) ?? []) {
    if (!(PROFILE_PLACEHOLDERS as readonly string[]).includes(placeholder)) {
      throw invalidInput(message('profile.unknownPlaceholder', { value: text, placeholder, choices: PROFILE_PLACEHOLDERS.join(', ') }))
    }
  }
  if (kind === 'ip' && !isIP(value)) throw invalidInput(message('profile.badAlternativeName', { value: text }))
  return `${kind}:${value}`
}

/** Every field checked, with one sentence for the first that is wrong. */
function validateProfile(name: string, fields: Omit<DeviceProfile, 'name'>): DeviceProfile {
  if (fields.keyType !== undefined) parseKeyType(String(fields.keyType))
  if (!COMMON_NAME_SOURCES.includes(fields.commonName as CommonNameSource)) {
    throw invalidInput(message('profile.badCommonName', { value: String(fields.commonName), choices: COMMON_NAME_SOURCES.join(', ') }))
  }
  if (fields.country !== undefined && fields.country !== '' && !/^[A-Z]{2}$/.test(fields.country)) {
    throw invalidInput(message('profile.badCountry', { value: String(fields.country) }))
  }
  const keyUsage = [...new Set(fields.keyUsage)]
  if (keyUsage.length === 0 || keyUsage.some((usage) => !END_ENTITY_KEY_USAGES.includes(usage))) {
    throw invalidInput(message('profile.badKeyUsage', { value: fields.keyUsage.join(', '), choices: END_ENTITY_KEY_USAGES.join(', ') }))
  }
  const extendedKeyUsage = [...new Set(fields.extendedKeyUsage)]
  const known = Object.keys(EXTENDED_KEY_USAGES) as ExtendedKeyUsageName[]
  // Brokers check a client certificate's purpose: without clientAuth, mutual TLS refuses it.
  if (!extendedKeyUsage.includes('clientAuth') || extendedKeyUsage.some((usage) => !known.includes(usage))) {
    throw invalidInput(message('profile.badExtendedKeyUsage', { value: fields.extendedKeyUsage.join(', '), choices: known.join(', ') }))
  }
  if (!Array.isArray(fields.subjectAltNames) || fields.subjectAltNames.length > MAX_ALTERNATIVE_NAMES) {
    throw invalidInput(message('profile.tooManyAlternativeNames', { max: MAX_ALTERNATIVE_NAMES }))
  }
  if (typeof fields.description !== 'string' || fields.description.length > 200) {
    throw invalidInput(message('profile.badDescription', { max: 200 }))
  }
  const profile: DeviceProfile = {
    name,
    description: fields.description,
    days: validateDays(fields.days, 'certificate', CERTIFICATE_PROFILES.device.maxDays),
    commonName: fields.commonName,
    subjectAltNames: fields.subjectAltNames.map(alternativeName),
    keyUsage,
    extendedKeyUsage,
  }
  // Optional fields only when set, so a stored profile reads back as it was given.
  if (fields.keyType !== undefined) profile.keyType = fields.keyType
  const organization = optionalText(fields.organization, 'organization')
  if (organization) profile.organization = organization
  const organizationalUnit = optionalText(fields.organizationalUnit, 'organizationalUnit')
  if (organizationalUnit) profile.organizationalUnit = organizationalUnit
  if (fields.country) profile.country = fields.country
  return profile
}

function validateName(value: unknown): string {
  if (typeof value !== 'string' || !PROFILE_NAME.test(value)) throw invalidInput(message('profile.badName', { value: String(value) }))
  if (value.toLowerCase() === DEFAULT_PROFILE_NAME) throw new CertdeskError('CONFLICT', message('profile.builtIn', { name: value }))
  return value
}

export async function createProfile(store: RegistryStore, input: ProfileInput): Promise<ProfileView> {
  const name = validateName(input.name)
  const { name: _default, ...defaults } = builtInView()
  const { builtIn: _builtIn, ...base } = defaults
  const profile = validateProfile(name, { ...base, description: '', ...definedFields(input) })
  return store.mutate((data) => {
    const profiles = (data.profiles ??= {})
    if (ownEntry(profiles, name.toLowerCase())) throw new CertdeskError('CONFLICT', message('profile.nameTaken', { name }))
    const stamp = new Date().toISOString()
    const record: ProfileRecord = { ...profile, createdAt: stamp, updatedAt: stamp }
    profiles[name.toLowerCase()] = record
    return profileView(record)
  })
}

export async function updateProfile(store: RegistryStore, name: string, update: ProfileUpdate): Promise<ProfileView> {
  return store.mutate((data) => {
    const current = findProfile(data, name)
    if (current.builtIn) throw new CertdeskError('CONFLICT', message('profile.builtIn', { name: current.name }))
    const { builtIn: _builtIn, createdAt, updatedAt: _updatedAt, ...fields } = current
    const merged = { ...fields, ...definedFields(update) }
    // An emptied optional field is removed, not kept as "".
    const profile = validateProfile(current.name, merged)
    const record: ProfileRecord = { ...profile, createdAt: createdAt ?? new Date().toISOString(), updatedAt: new Date().toISOString() }
    ;(data.profiles ??= {})[current.name.toLowerCase()] = record
    return profileView(record)
  })
}

/** Certificates issued with a deleted profile keep its name in their record, and renew as they are. */
export async function deleteProfile(store: RegistryStore, name: string): Promise<ProfileView> {
  return store.mutate((data) => {
    const current = findProfile(data, name)
    if (current.builtIn) throw new CertdeskError('CONFLICT', message('profile.builtIn', { name: current.name }))
    delete data.profiles?.[current.name.toLowerCase()]
    return current
  })
}

/** Drops fields given as undefined, so they do not overwrite a value when spread. */
function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>
}

/** Whether certificates of this profile name a device (its device ID is in the subject or a name). */
export function profileNeedsDevice(profile: DeviceProfile): boolean {
  return profile.commonName === 'deviceId' || profile.subjectAltNames.some((entry) => entry.includes('{deviceId}'))
}

/** A profile's alternative names for one certificate, placeholders filled. */
export function fillAlternativeNames(profile: DeviceProfile, values: { deviceId?: string; name: string; cn: string }): string[] {
  return profile.subjectAltNames.map((entry) =>
    entry
      .replaceAll('{deviceId}', values.deviceId ?? '')
      .replaceAll('{name}', values.name)
      .replaceAll('{cn}', values.cn),
  )
}
