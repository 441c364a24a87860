// Plain values and types only (no Node imports): the renderer shares this file.

/** Key types an operator can pick for the root CA and for device certificates. */
export const KEY_TYPES = ['rsa2048', 'rsa3072', 'rsa4096', 'ec-p256', 'ec-p384'] as const
export type KeyType = (typeof KEY_TYPES)[number]

/** What the seed's platform used; EC P-256 is the fast alternative. */
export const DEFAULT_KEY_TYPE: KeyType = 'rsa2048'

export function isKeyType(value: unknown): value is KeyType {
  return typeof value === 'string' && (KEY_TYPES as readonly string[]).includes(value)
}
