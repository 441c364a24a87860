import { describe, expect, it } from 'vitest'
import { osKeychain } from '../../src-main/electron/keychain'

/** safeStorage's surface, as Electron's main process has it (the binary is not here). */
function safeStorage(available: boolean, backend?: string) {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (text: string) => Buffer.from(`enc:${text}`),
    decryptString: (blob: Buffer) => blob.toString().replace(/^enc:/, ''),
    ...(backend ? { getSelectedStorageBackend: () => backend } : {}),
  }
}

describe('the OS keychain adapter', () => {
  it('is offered only where it protects something', () => {
    expect(osKeychain(safeStorage(false), 'darwin')).toBeUndefined()
    expect(osKeychain(safeStorage(true, 'basic_text'), 'linux')).toBeUndefined()
    expect(osKeychain(safeStorage(true, 'unknown'), 'linux')).toBeUndefined()
    expect(osKeychain(safeStorage(true, 'gnome_libsecret'), 'linux')?.name).toBe('gnome_libsecret')
    expect(osKeychain(safeStorage(true), 'darwin')?.name).toBe('macOS Keychain')
    expect(osKeychain(safeStorage(true), 'win32')?.name).toBe('Windows DPAPI')
  })

  it('carries a binary key through safeStorage text unchanged', () => {
    const keychain = osKeychain(safeStorage(true), 'darwin')!
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37) % 256))
    expect(keychain.decrypt(keychain.encrypt(key))).toEqual(key)
  })
})
