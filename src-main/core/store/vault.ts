import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { writeFileAtomic } from './files'
import type { ScryptParameters, SealedBox, VaultRecord } from './schema'

export type { SealedBox, VaultRecord }

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>

export const VAULT_KEY_FILE = 'vault.key'
/** 2^17 × r=8 costs 128 MiB and ~0.4 s: slow for guessing, bearable once per command. */
const DEFAULT_SCRYPT = { N: 2 ** 17, r: 8, p: 1 }
/**
 * What an index may ask of scrypt. The parameters are read from disk, so a tampered index must
 * not be able to demand gigabytes of memory or minutes of work (or weaken the key below 2^14).
 */
const SCRYPT_BOUNDS = { minLogN: 14, maxLogN: 20, maxR: 16, maxP: 4 }

export function seal(key: Buffer, plaintext: Buffer, associatedData: string): SealedBox {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(associatedData, 'utf8'))
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') }
}

/** Throws (from OpenSSL) when the key is wrong or the box was altered or moved to another record. */
export function open(key: Buffer, box: SealedBox, associatedData: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(box.iv, 'base64'))
  decipher.setAAD(Buffer.from(associatedData, 'utf8'))
  decipher.setAuthTag(Buffer.from(box.tag, 'base64'))
  return Buffer.concat([decipher.update(Buffer.from(box.data, 'base64')), decipher.final()])
}

async function deriveKeyEncryptionKey(passphrase: string, kdf: ScryptParameters): Promise<Buffer> {
  const logN = Math.log2(kdf.N)
  const withinBounds =
    Number.isInteger(logN) &&
    logN >= SCRYPT_BOUNDS.minLogN &&
    logN <= SCRYPT_BOUNDS.maxLogN &&
    Number.isInteger(kdf.r) &&
    kdf.r >= 1 &&
    kdf.r <= SCRYPT_BOUNDS.maxR &&
    Number.isInteger(kdf.p) &&
    kdf.p >= 1 &&
    kdf.p <= SCRYPT_BOUNDS.maxP &&
    Buffer.from(kdf.salt, 'base64').length >= 16
  if (!withinBounds) {
    throw new CertdeskError('CORRUPT_STORE', message('vault.kdfOutOfBounds'))
  }
  return scrypt(passphrase, Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r,
  })
}

/**
 * The operating system's keychain as the desktop app reaches it (Electron's safeStorage: macOS
 * Keychain, Windows DPAPI, libsecret/kwallet on Linux). The core never imports Electron: the app
 * hands this in.
 */
export interface KeyProtector {
  /** Shown to the operator, e.g. "macOS Keychain", "libsecret". */
  name: string
  encrypt(plaintext: Buffer): Buffer
  decrypt(ciphertext: Buffer): Buffer
}

/** How a vault key is to be protected: a passphrase, the OS keychain, or (neither) a 0600 key file. */
export interface VaultProtection {
  passphrase?: string
  keychain?: KeyProtector
  /**
   * The vault key itself, as the desktop app's main process hands it to its own broker process
   * (which cannot reach the OS keychain). Never stored; a wrong one fails at the first decryption.
   */
  key?: Buffer
}

/**
 * Wraps a vault key for storage. With a passphrase, under a scrypt-derived key; with the OS
 * keychain, by the keychain; with neither, it is written to `vault.key`, readable by the owner
 * only. Only the wrapped form goes into the index.
 */
export async function protectVaultKey(dataDir: string, key: Buffer, protection: VaultProtection): Promise<VaultRecord> {
  if (protection.passphrase !== undefined) {
    const kdf: ScryptParameters = { name: 'scrypt', ...DEFAULT_SCRYPT, salt: randomBytes(16).toString('base64') }
    const keyEncryptionKey = await deriveKeyEncryptionKey(protection.passphrase, kdf)
    return { protection: 'passphrase', kdf, wrappedKey: seal(keyEncryptionKey, key, 'certdesk-vault-key') }
  }
  if (protection.keychain !== undefined) {
    return {
      protection: 'os-keychain',
      keychain: protection.keychain.name,
      wrappedKey: protection.keychain.encrypt(key).toString('base64'),
    }
  }
  await writeFileAtomic(join(dataDir, VAULT_KEY_FILE), key.toString('base64') + '\n', 0o600)
  return { protection: 'keyfile' }
}

/** A vault key for a new data folder, protected as asked. */
export async function createVault(dataDir: string, protection: VaultProtection): Promise<{ record: VaultRecord; key: Buffer }> {
  const key = randomBytes(32)
  return { record: await protectVaultKey(dataDir, key, protection), key }
}

export async function unlockVault(dataDir: string, record: VaultRecord, protection: VaultProtection): Promise<Buffer> {
  const { passphrase } = protection
  if (protection.key !== undefined) {
    if (protection.key.length !== 32) throw new CertdeskError('WRONG_PASSPHRASE', message('vault.notVaultKey'))
    return protection.key
  }
  if (record.protection === 'os-keychain') {
    if (protection.keychain === undefined) {
      throw new CertdeskError('KEYCHAIN_REQUIRED', message('vault.keychainRequired', { keychain: record.keychain }))
    }
    let key: Buffer
    try {
      key = protection.keychain.decrypt(Buffer.from(record.wrappedKey, 'base64'))
    } catch (error) {
      throw new CertdeskError('WRONG_PASSPHRASE', message('vault.keychainCannotUnwrap', { keychain: protection.keychain.name }), {
        cause: error,
      })
    }
    if (key.length !== 32) throw new CertdeskError('CORRUPT_STORE', message('vault.keychainKeyDamaged'))
    return key
  }
  if (record.protection === 'passphrase') {
    if (passphrase === undefined) {
      throw new CertdeskError('PASSPHRASE_REQUIRED', message('vault.passphraseRequired'))
    }
    const keyEncryptionKey = await deriveKeyEncryptionKey(passphrase, record.kdf)
    try {
      return open(keyEncryptionKey, record.wrappedKey, 'certdesk-vault-key')
    } catch (error) {
      throw new CertdeskError('WRONG_PASSPHRASE', message('vault.wrongPassphrase'), { cause: error })
    }
  }
  const path = join(dataDir, VAULT_KEY_FILE)
  let text: string
  try {
    // A key file others can read protects nothing; refuse it the way ssh refuses such a key.
    const { mode } = await stat(path)
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new CertdeskError('INSECURE_KEY_FILE', message('vault.keyFileReadable', { path }))
    }
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof CertdeskError) throw error
    throw new CertdeskError('CORRUPT_STORE', message('vault.keyFileUnreadable', { path }))
  }
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length !== 32) throw new CertdeskError('CORRUPT_STORE', message('vault.keyFileDamaged', { path }))
  return key
}
