import type { SafeStorage } from 'electron'
import type { KeyProtector } from '../core/store/vault'

type SafeStorageApi = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> & {
  getSelectedStorageBackend?: () => string
}

/** Linux back ends that keep nothing secret: Chromium's fallback uses a hard-coded password. */
const INSECURE_LINUX_BACKENDS = new Set(['basic_text', 'unknown'])

/**
 * The OS keychain as a KeyProtector, from Electron's safeStorage (main process only): macOS
 * Keychain, Windows DPAPI, or on Linux the secret service / KWallet. Undefined where it would
 * protect nothing (no keyring on Linux), so the app falls back to the key file and says so.
 */
export function osKeychain(safeStorage: SafeStorageApi, platform: NodeJS.Platform = process.platform): KeyProtector | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined
  let name = platform === 'darwin' ? 'macOS Keychain' : platform === 'win32' ? 'Windows DPAPI' : 'OS keyring'
  if (platform === 'linux') {
    const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown'
    if (INSECURE_LINUX_BACKENDS.has(backend)) return undefined
    name = backend
  }
  return {
    name,
    // safeStorage takes text: the key travels as base64 inside the encrypted blob.
    encrypt: (plaintext) => safeStorage.encryptString(plaintext.toString('base64')),
    decrypt: (ciphertext) => Buffer.from(safeStorage.decryptString(ciphertext), 'base64'),
  }
}
