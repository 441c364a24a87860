// Stored credentials of token devices: kept from an earlier export while the device key still
// matches them, so `--only-changes-since` shows only what changed. Main side only (node:crypto).
import { timingSafeEqual } from 'node:crypto'
import type { BrokerExportInput } from './types'

/**
 * A token device's stored credential: the earlier export's (`previousCredentials`) when the device
 * key still gives it with that export's salt, else `hash` of a fresh salt. `saltOf` reads the salt
 * out of a stored credential, or says it has none of `saltBytes` bytes.
 */
export function saltedCredential(
  input: BrokerExportInput,
  username: string,
  saltBytes: number,
  hash: (salt: Buffer) => string,
  saltOf: (stored: string) => Buffer | undefined,
): string {
  const stored = input.previousCredentials?.get(username)
  const earlierSalt = stored === undefined ? undefined : saltOf(stored)
  if (stored !== undefined && earlierSalt?.length === saltBytes) {
    const again = Buffer.from(hash(earlierSalt))
    // Constant time: the stored hash is a secret's image, and the key is compared through it.
    if (again.length === Buffer.byteLength(stored) && timingSafeEqual(again, Buffer.from(stored))) return again.toString()
  }
  const salt = input.randomBytes(saltBytes)
  if (salt.length !== saltBytes) throw new Error(`randomBytes gave ${salt.length} bytes, not ${saltBytes}`)
  return hash(salt)
}
