import { type KeyObject, createPrivateKey, generateKeyPair as generateKeyPairCallback } from 'node:crypto'
import { promisify } from 'node:util'
import { invalidInput } from '../errors'
import { message } from '../messages'

const generateKeyPairAsync = promisify(generateKeyPairCallback)

import { DEFAULT_KEY_TYPE, KEY_TYPES, type KeyType, isKeyType } from './keyTypes'

export { DEFAULT_KEY_TYPE, KEY_TYPES, type KeyType }

export interface KeyPair {
  publicKey: KeyObject
  privateKey: KeyObject
}

export function parseKeyType(value: string): KeyType {
  if (!isKeyType(value)) {
    throw invalidInput(message('keyType.unknown', { value, choices: KEY_TYPES.join(', ') }))
  }
  return value
}

export function isRsa(keyType: KeyType): boolean {
  return keyType.startsWith('rsa')
}

/** The digest a key of this type signs certificates with: SHA-256, or SHA-384 for P-384. */
export function signatureDigest(keyType: KeyType): 'sha256' | 'sha384' {
  return keyType === 'ec-p384' ? 'sha384' : 'sha256'
}

/**
 * A fresh key pair from Node's native crypto (OpenSSL). The async form runs on libuv's thread
 * pool, so concurrent calls — RSA is the slow case — use every core.
 */
export async function generateKeyPair(keyType: KeyType): Promise<KeyPair> {
  if (isRsa(keyType)) {
    return generateKeyPairAsync('rsa', { modulusLength: Number(keyType.slice(3)), publicExponent: 0x10001 })
  }
  return generateKeyPairAsync('ec', { namedCurve: keyType === 'ec-p384' ? 'P-384' : 'P-256' })
}

/** PKCS#8 PEM ("BEGIN PRIVATE KEY"), which OpenSSL, mosquitto, paho and mqtt.js all read. */
export function exportPrivateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string
}

export function importPrivateKeyPem(pem: string): KeyObject {
  return createPrivateKey(pem)
}

export function toPem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** The Certdesk key type of a public key (a device's, from its request), or undefined if none fits. */
export function keyTypeOf(publicKey: KeyObject): KeyType | undefined {
  const details = publicKey.asymmetricKeyDetails ?? {}
  if (publicKey.asymmetricKeyType === 'rsa') {
    const candidate = `rsa${details.modulusLength ?? 0}`
    return isKeyType(candidate) ? candidate : undefined
  }
  if (publicKey.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ec-p256'
    if (details.namedCurve === 'secp384r1') return 'ec-p384'
  }
  return undefined
}
