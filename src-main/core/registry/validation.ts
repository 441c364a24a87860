import { invalidInput } from '../errors'

export const NAME_MAX_LENGTH = 64

/** Names are trimmed, 1–64 characters, no control characters (they end up in tables and logs). */
export function normaliseName(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidInput(`The ${what} name must be text.`)
  const name = value.trim()
  if (name.length === 0) throw invalidInput(`The ${what} name is empty; give it 1 to ${NAME_MAX_LENGTH} characters.`)
  if ([...name].length > NAME_MAX_LENGTH) {
    throw invalidInput(`The ${what} name is ${[...name].length} characters long; the limit is ${NAME_MAX_LENGTH}.`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalidInput(`The ${what} name contains control characters.`)
  return name
}

const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{8,36}$/

export function validateDeviceId(value: string): string {
  if (!DEVICE_ID_PATTERN.test(value)) {
    throw invalidInput(
      `"${value}" is not a valid device ID; use 8 to 36 characters from letters, digits, "_" and "-".`,
    )
  }
  return value
}

/** MQTT allows any UTF-8 username; Certdesk keeps to printable text without spaces, 1–64 long. */
export function validateUsername(value: string): string {
  if (!/^[\x21-\x7e]{1,64}$/.test(value)) {
    throw invalidInput(`"${value}" is not a valid connect username; use 1 to 64 printable characters without spaces.`)
  }
  return value
}

export function validateDays(value: number, what: string, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(`The ${what} validity must be a whole number of days from 1 to ${max}.`)
  }
  return value
}
