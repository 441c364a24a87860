import { webcrypto } from 'node:crypto'
import { invalidInput } from '../errors'

/** Key types an operator can pick for the root CA and for device certificates. */
export const KEY_TYPES = ['rsa2048', 'rsa3072', 'rsa4096', 'ec-p256', 'ec-p384'] as const
export type KeyType = (typeof KEY_TYPES)[number]

/** What the seed's platform used; EC P-256 is the fast alternative. */
export const DEFAULT_KEY_TYPE: KeyType = 'rsa2048'

export function isKeyType(value: unknown): value is KeyType {
  return typeof value === 'string' && (KEY_TYPES as readonly string[]).includes(value)
}

export function parseKeyType(value: string): KeyType {
  if (!isKeyType(value)) {
    throw invalidInput(`Unknown key type "${value}"; use one of ${KEY_TYPES.join(', ')}.`)
  }
  return value
}

type KeyAlgorithm = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams

function keyAlgorithm(keyType: KeyType): KeyAlgorithm {
  switch (keyType) {
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: Number(keyType.slice(3)),
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      }
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' }
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' }
  }
}

/** The signature algorithm a key of this type signs certificates with (SHA-256 or stronger). */
export function signingAlgorithm(keyType: KeyType): webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams {
  if (keyType.startsWith('rsa')) return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  return { name: 'ECDSA', hash: keyType === 'ec-p384' ? 'SHA-384' : 'SHA-256' }
}

export function isRsa(keyType: KeyType): boolean {
  return keyType.startsWith('rsa')
}

/**
 * A fresh key pair from Node's native crypto. WebCrypto's generateKey runs on libuv's thread
 * pool, so concurrent calls (RSA) use every core.
 */
export async function generateKeyPair(keyType: KeyType): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(keyAlgorithm(keyType), true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), which OpenSSL, mosquitto, paho and mqtt.js all read. */
export async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  return toPem('PRIVATE KEY', der)
}

export async function importPrivateKeyPem(pem: string, keyType: KeyType): Promise<webcrypto.CryptoKey> {
  const der = fromPem(pem, 'PRIVATE KEY')
  const algorithm = keyAlgorithm(keyType)
  const importParams =
    algorithm.name === 'ECDSA'
      ? { name: 'ECDSA', namedCurve: (algorithm as webcrypto.EcKeyGenParams).namedCurve }
      : { name: algorithm.name, hash: 'SHA-256' }
  return webcrypto.subtle.importKey('pkcs8', der, importParams, false, ['sign'])
}

export function toPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64')
  const lines = base64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

export function fromPem(pem: string, label: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem)
  if (!match) throw invalidInput(`The text is not a PEM ${label}.`)
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64')
}
