import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkDataFolder } from '../../../src-main/core/store/doctor'
import type { KeyProtector } from '../../../src-main/core/store/vault'
import { Workspace } from '../../../src-main/core/workspace'
import { codeOf } from '../../helpers/errors'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../../helpers/tools'

/**
 * Stands in for the OS keychain, which exists only inside the desktop app (Electron safeStorage,
 * absent here): a machine secret that wraps and unwraps, as safeStorage does.
 */
function machineKeychain(): KeyProtector {
  const secret = randomBytes(32)
  return {
    name: 'test keyring',
    encrypt: (plaintext) => {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', secret, iv)
      const data = Buffer.concat([cipher.update(plaintext), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), data])
    },
    decrypt: (blob) => {
      const decipher = createDecipheriv('aes-256-gcm', secret, blob.subarray(0, 12))
      decipher.setAuthTag(blob.subarray(12, 28))
      return Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()])
    },
  }
}

describe('key protection', () => {
  it('moves between key file, passphrase and back without touching the keys', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const certificate = await workspace.issueDeviceCertificate({ name: 'kept' })
    const bundle = await workspace.exportDeviceBundle(certificate.id)
    const env = { NEW_PASS: 'a brand new passphrase' }
    // An unset variable is named with the option that named it, and changes nothing.
    const unset = await runCertdesk(['--data', dataDir, 'ca', 'protect', '--new-passphrase-env', 'NO_SUCH_VARIABLE'])
    expect(unset.code).not.toBe(0)
    expect(unset.stderr.trim()).toBe('certdesk: The environment variable NO_SUCH_VARIABLE named by --new-passphrase-env is not set.')
    const changed = await runCertdeskJson<{ protection: string }>(
      ['--data', dataDir, 'ca', 'protect', '--new-passphrase-env', 'NEW_PASS'],
      env,
    )
    expect(changed.protection).toBe('passphrase')
    expect(existsSync(join(dataDir, 'vault.key'))).toBe(false)
    expect(
      (await runCertdesk(['--data', dataDir, 'cert', 'export', certificate.id, '--out', join(dataDir, '..', 'a.zip')])).stderr,
    ).toMatch(/protected by a passphrase/)
    const locked = await Workspace.open(dataDir)
    expect((await locked.getVaultState()).unlocked).toBe(false)
    expect(await codeOf(locked.unlockVault('not it at all'))).toBe('WRONG_PASSPHRASE')
    await locked.unlockVault(env.NEW_PASS)
    expect(await locked.exportDeviceBundle(certificate.id)).toHaveLength(bundle.length)
    expect(await codeOf(locked.changeKeyProtection({ passphrase: 'short' }))).toBe('INVALID_INPUT')
    const back = await runCertdeskJson<{ protection: string }>(
      ['--data', dataDir, '--passphrase-env', 'NEW_PASS', 'ca', 'protect', '--key-file'],
      env,
    )
    expect(back.protection).toBe('keyfile')
    expect((await runCertdesk(['--data', dataDir, 'cert', 'export', certificate.id, '--out', join(dataDir, '..', 'b.zip')])).code).toBe(0)
    const actions = (await Workspace.open(dataDir)).getAuditLog().entries.map((entry) => `${entry.action} ${entry.target}`)
    expect(actions).toEqual(expect.arrayContaining(['vault.protect passphrase', 'vault.protect keyfile']))
  })

  it('the OS keychain wraps the key in the app; elsewhere the folder says where its keys can be used', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const keychain = machineKeychain()
    const app = await Workspace.initialise(dataDir, { keyType: 'ec-p256', keychain, actor: 'app' })
    expect(existsSync(join(dataDir, 'vault.key'))).toBe(false)
    expect(await app.getVaultState()).toEqual({ protection: 'os-keychain', keychain: 'test keyring', unlocked: true })
    const certificate = await app.issueDeviceCertificate({ name: 'in the app' })
    // The app's broker process gets the unwrapped key from the main process.
    const brokerProcess = await Workspace.open(dataDir, { key: await app.vaultKeyForBrokerProcess() })
    expect((await brokerProcess.exportDeviceBundle(certificate.id)).length).toBeGreaterThan(500)
    // The command line has no keychain: listings work, key operations say where to go.
    const listed = await runCertdeskJson<{ id: string }[]>(['--data', dataDir, 'cert', 'list'])
    expect(listed.map((c) => c.id)).toEqual([certificate.id])
    const refused = await runCertdesk(['--data', dataDir, 'cert', 'create', '--name', 'from the shell'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /^certdesk: The keys in this data folder are protected by the desktop app's OS keychain \(test keyring\); use them in the app, or give the folder a passphrase there/,
    )
    // Doctor on the command line: keys that open in the app are not a fault of the folder.
    const report = await checkDataFolder(dataDir)
    expect(report.healthy).toBe(true)
    expect(report.findings.find((f) => f.check === 'vault')?.message).toBe(
      "The vault is protected by the desktop app's OS keychain; not opened here.",
    )
    // Another machine's keychain cannot unwrap it.
    expect(await codeOf((await Workspace.open(dataDir, { keychain: machineKeychain() })).issueDeviceCertificate({ name: 'x' }))).toBe(
      'WRONG_PASSPHRASE',
    )
    // A wrong key handed over fails at the first decryption, never silently.
    expect(await codeOf((await Workspace.open(dataDir, { key: randomBytes(32) })).exportDeviceBundle(certificate.id))).toBe('CORRUPT_STORE')
  })

  it('the index backups follow a protection change: a restore opens with the new passphrase, never the old one', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const certificate = await workspace.issueDeviceCertificate({ name: 'kept' })
    await workspace.changeKeyProtection({ passphrase: 'first passphrase' })
    await workspace.changeKeyProtection({ passphrase: 'second passphrase' })
    for (const backup of ['config.json.bak']) {
      expect(JSON.parse(await readFile(join(dataDir, backup), 'utf8')).vault.protection, backup).toBe('passphrase')
    }
    await rm(join(dataDir, 'config.json'))
    const restored = await checkDataFolder(dataDir, { restoreIndex: true })
    expect(restored.findings[0]).toMatchObject({ check: 'index', status: 'repaired' })
    expect(await codeOf((await Workspace.open(dataDir, { passphrase: 'first passphrase' })).exportDeviceBundle(certificate.id))).toBe(
      'WRONG_PASSPHRASE',
    )
    expect(
      (await (await Workspace.open(dataDir, { passphrase: 'second passphrase' })).exportDeviceBundle(certificate.id)).length,
    ).toBeGreaterThan(500)
  })

  it('a key file left beside another protection is reported, and removed only when provably redundant', async () => {
    const dataDir = join(await temporaryFolder(), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const keyFile = await readFile(join(dataDir, 'vault.key'))
    await workspace.changeKeyProtection({ passphrase: 'a passphrase here' })
    // As a crash between the index write and the key file's removal would leave it.
    await writeFile(join(dataDir, 'vault.key'), keyFile, { mode: 0o600 })
    const locked = await checkDataFolder(dataDir, { repair: true })
    expect(locked.findings.find((f) => f.check === 'stray key file')).toMatchObject({ status: 'problem' })
    expect(existsSync(join(dataDir, 'vault.key'))).toBe(true)
    const unlocked = await checkDataFolder(dataDir, { repair: true, passphrase: 'a passphrase here' })
    expect(unlocked.findings.find((f) => f.check === 'stray key file')).toMatchObject({ status: 'repaired' })
    expect(existsSync(join(dataDir, 'vault.key'))).toBe(false)
  })
})
