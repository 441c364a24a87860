import { invalidInput } from '../errors'
import { message } from '../messages'

export const NAME_MAX_LENGTH = 64

/** C0 and C1 controls, DEL, and the bidirectional controls that can make a name read backwards (U+202E). */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
/** Characters that show as nothing: a name made only of them looks empty. */
const INVISIBLE = /[\s\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff]/gu

/** What a name names; each has its own sentences (a translation words each differently). */
type NamedThing = 'certificate' | 'device' | 'profile' | 'common'

const NAME_REFUSALS = {
  certificate: {
    notText: 'name.certificateNotText',
    empty: 'name.certificateEmpty',
    tooLong: 'name.certificateTooLong',
    unsafe: 'name.certificateUnsafe',
  },
  device: { notText: 'name.deviceNotText', empty: 'name.deviceEmpty', tooLong: 'name.deviceTooLong', unsafe: 'name.deviceUnsafe' },
  profile: { notText: 'name.profileNotText', empty: 'name.profileEmpty', tooLong: 'name.profileTooLong', unsafe: 'name.profileUnsafe' },
  common: { notText: 'name.commonNotText', empty: 'name.commonEmpty', tooLong: 'name.commonTooLong', unsafe: 'name.commonUnsafe' },
} as const

/** Names are trimmed, 1–64 characters, no control characters (they end up in tables and logs). */
export function normaliseName(value: unknown, what: NamedThing): string {
  const refusal = NAME_REFUSALS[what]
  if (typeof value !== 'string') throw invalidInput(message(refusal.notText))
  const name = value.normalize('NFC').trim()
  if (name.replace(INVISIBLE, '').length === 0) throw invalidInput(message(refusal.empty, { max: NAME_MAX_LENGTH }))
  if ([...name].length > NAME_MAX_LENGTH) {
    throw invalidInput(message(refusal.tooLong, { length: [...name].length, max: NAME_MAX_LENGTH }))
  }
  if (UNSAFE_IN_NAMES.test(name)) throw invalidInput(message(refusal.unsafe))
  return name
}

/** A leading "-" would read as an option on every command line that names the device. */
const DEVICE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{7,35}$/

/**
 * Names of Object.prototype's members (`constructor`, `__proto__`, `toString`...): as ids they
 * would resolve to built-ins in any plain-object table, here or in the MQTT broker's client table.
 */
export function isReservedId(value: string): boolean {
  return value === '__proto__' || value in Object.prototype
}

export function validateDeviceId(value: string): string {
  if (!DEVICE_ID_PATTERN.test(value)) {
    throw invalidInput(message('validation.deviceIdInvalid', { value }))
  }
  if (isReservedId(value)) throw invalidInput(message('validation.deviceIdReserved', { value }))
  return value
}

/** MQTT allows any UTF-8 username; Certdesk keeps to printable text without spaces, 1–64 long. */
export function validateUsername(value: string): string {
  if (!/^[\x21-\x7e]{1,64}$/.test(value)) {
    throw invalidInput(message('validation.usernameInvalid', { value }))
  }
  if (isReservedId(value)) throw invalidInput(message('validation.usernameReserved', { value }))
  return value
}

export function validateDays(value: number, what: 'rootCa' | 'certificate' | 'crl', max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    const key = what === 'rootCa' ? 'validation.rootCaDays' : what === 'crl' ? 'validation.crlDays' : 'validation.certificateDays'
    throw invalidInput(message(key, { max }))
  }
  return value
}
