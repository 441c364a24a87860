import { randomInt, randomBytes } from 'node:crypto'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** Uniform characters from the CSPRNG (randomInt rejects biased draws). */
function randomString(alphabet: string, length: number): string {
  let text = ''
  for (let i = 0; i < length; i++) text += alphabet[randomInt(alphabet.length)]
  return text
}

/** Internal record ids: short enough to type, prefixed so their kind is plain. */
export function newCertificateRecordId(): string {
  return `crt_${randomString(LOWER_ALPHANUMERIC, 10)}`
}

export function newDeviceRecordId(): string {
  return `dev_${randomString(LOWER_ALPHANUMERIC, 10)}`
}

/** A device ID (MQTT client_id) when the operator gives none: 16 characters, ~82 bits. */
export function generateDeviceId(): string {
  return randomString(LOWER_ALPHANUMERIC, 16)
}

/** The device key (MQTT password): 36 characters, ~214 bits. */
export function generateDeviceKey(): string {
  return randomString(ALPHANUMERIC, 36)
}

/** A device certificate's common name: 128 random bits in hex, unique without coordination. */
export function generateCommonName(): string {
  return randomBytes(16).toString('hex')
}
