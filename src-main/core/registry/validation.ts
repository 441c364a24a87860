import { invalidInput } from '../errors'

const NAME_MAX_LENGTH = 64

/** C0 and C1 controls, DEL, and the bidirectional controls that can make a name read backwards (U+202E). */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
/** Characters that show as nothing: a name made only of them looks empty. */
const INVISIBLE = /[\s\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff]/gu

/** Names are trimmed, 1–64 characters, no control characters (they end up in tables and logs). */
export function normaliseName(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidInput(`The ${what} name must be text.`)
  const name = value.normalize('NFC').trim()
  if (name.replace(INVISIBLE, '').length === 0)
    throw invalidInput(`The ${what} name is empty; give it 1 to ${NAME_MAX_LENGTH} visible characters.`)
  if ([...name].length > NAME_MAX_LENGTH) {
    throw invalidInput(`The ${what} name is ${[...name].length} characters long; the limit is ${NAME_MAX_LENGTH}.`)
  }
  if (UNSAFE_IN_NAMES.test(name)) throw invalidInput(`The ${what} name contains control or text-direction characters.`)
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
    throw invalidInput(
      `"${value}" is not a valid device ID; use 8 to 36 characters from letters, digits, "_" and "-", not starting with "-".`,
    )
  }
  if (isReservedId(value)) throw invalidInput(`"${value}" is reserved and cannot be a device ID; choose another.`)
  return value
}

/** MQTT allows any UTF-8 username; Certdesk keeps to printable text without spaces, 1–64 long. */
export function validateUsername(value: string): string {
  if (!/^[\x21-\x7e]{1,64}$/.test(value)) {
    throw invalidInput(`"${value}" is not a valid connect username; use 1 to 64 printable characters without spaces.`)
  }
  if (isReservedId(value)) throw invalidInput(`"${value}" is reserved and cannot be a connect username; choose another.`)
  return value
}

export function validateDays(value: number, what: string, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(`The ${what} validity must be a whole number of days from 1 to ${max}.`)
  }
  return value
}
