import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildRootCertificate, issueCertificate, randomSerialNumber } from '../../../src-main/core/pki/certificates'
import { KEY_TYPES, type KeyType, exportPrivateKeyPem, generateKeyPair } from '../../../src-main/core/pki/keys'
import { openssl, temporaryFolder } from '../../helpers/tools'

async function makeRoot(keyType: KeyType) {
  const keys = await generateKeyPair(keyType)
  const root = await buildRootCertificate({ keys, keyType, commonName: 'Test Root', days: 3650 })
  return { keys, root }
}

/** The lines of `openssl x509 -text` that follow a heading, trimmed. */
function extension(text: string, heading: string): string {
  const match = new RegExp(`${heading}:( critical)? *\\n\\s+(.+)`).exec(text)
  if (!match) throw new Error(`no ${heading} in\n${text}`)
  return `${match[1] ? 'critical ' : ''}${match[2].trim()}`
}

describe('root CA certificate', () => {
  it.each(KEY_TYPES)('%s: self-signed v3 CA with critical basicConstraints and keyUsage', async (keyType) => {
    const folder = await temporaryFolder()
    const { root } = await makeRoot(keyType)
    const file = join(folder, 'root.pem')
    await writeFile(file, root.pem)
    const text = await openssl(['x509', '-in', file, '-noout', '-text'])
    expect(text).toContain('Version: 3 (0x2)')
    expect(extension(text, 'X509v3 Basic Constraints')).toBe('critical CA:TRUE, pathlen:0')
    expect(extension(text, 'X509v3 Key Usage')).toBe('critical Certificate Sign, CRL Sign')
    expect(extension(text, 'X509v3 Subject Key Identifier')).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/)
    expect(text).toMatch(
      keyType === 'ec-p384' ? /ecdsa-with-SHA384/ : keyType.startsWith('ec') ? /ecdsa-with-SHA256/ : /sha256WithRSAEncryption/,
    )
    // Self-signed: verifies against itself.
    expect(await openssl(['verify', '-CAfile', file, file])).toContain(': OK')
    const days = (Date.parse(root.notAfter) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(3649)
    expect(days).toBeLessThan(3651)
  })
})

describe('device certificate', () => {
  it.each([
    ['rsa2048', 'rsa2048'],
    ['ec-p256', 'ec-p256'],
    ['ec-p384', 'rsa2048'],
    ['rsa2048', 'ec-p256'],
  ] as [KeyType, KeyType][])('CA %s, device %s: chains, client-auth profile, key identifiers, key matches', async (caType, deviceType) => {
    const folder = await temporaryFolder()
    const { keys: caKeys, root } = await makeRoot(caType)
    const deviceKeys = await generateKeyPair(deviceType)
    const device = await issueCertificate({
      commonName: 'device-0001',
      publicKey: deviceKeys.publicKey,
      subjectKeyType: deviceType,
      issuer: { certificatePem: root.pem, privateKey: caKeys.privateKey, keyType: caType },
      days: 365,
      profile: { kind: 'device' },
    })
    const rootFile = join(folder, 'root.pem')
    const deviceFile = join(folder, 'device.pem')
    const keyFile = join(folder, 'device.key')
    await writeFile(rootFile, root.pem)
    await writeFile(deviceFile, device.pem)
    await writeFile(keyFile, await exportPrivateKeyPem(deviceKeys.privateKey))

    expect(await openssl(['verify', '-CAfile', rootFile, '-purpose', 'sslclient', deviceFile])).toBe(`${deviceFile}: OK\n`)
    const text = await openssl(['x509', '-in', deviceFile, '-noout', '-text'])
    const rootText = await openssl(['x509', '-in', rootFile, '-noout', '-text'])
    expect(text).toContain('Subject: CN = device-0001')
    expect(extension(text, 'X509v3 Basic Constraints')).toBe('critical CA:FALSE')
    expect(extension(text, 'X509v3 Key Usage')).toBe(
      deviceType.startsWith('rsa') ? 'critical Digital Signature, Key Encipherment' : 'critical Digital Signature',
    )
    expect(extension(text, 'X509v3 Extended Key Usage')).toBe('TLS Web Client Authentication')
    expect(extension(text, 'X509v3 Authority Key Identifier')).toBe(extension(rootText, 'X509v3 Subject Key Identifier'))
    expect(extension(text, 'X509v3 Subject Key Identifier')).not.toBe(extension(rootText, 'X509v3 Subject Key Identifier'))
    // The private key belongs to the certificate: same public key on both sides.
    const fromCertificate = await openssl(['x509', '-in', deviceFile, '-noout', '-pubkey'])
    const fromKey = await openssl(['pkey', '-in', keyFile, '-pubout'])
    expect(fromKey).toBe(fromCertificate)
    const days = (Date.parse(device.notAfter) - Date.now()) / 86_400_000
    expect(Math.round(days)).toBe(365)
    expect(Date.parse(device.notBefore)).toBeLessThan(Date.now())
  })

  it('a server certificate carries its names as subject alternative names and serverAuth', async () => {
    const folder = await temporaryFolder()
    const { keys, root } = await makeRoot('ec-p256')
    const serverKeys = await generateKeyPair('ec-p256')
    const server = await issueCertificate({
      commonName: 'broker',
      publicKey: serverKeys.publicKey,
      subjectKeyType: 'ec-p256',
      issuer: { certificatePem: root.pem, privateKey: keys.privateKey, keyType: 'ec-p256' },
      days: 30,
      profile: { kind: 'server', names: ['localhost', '127.0.0.1', '::1'] },
    })
    const file = join(folder, 'server.pem')
    await writeFile(file, server.pem)
    const text = await openssl(['x509', '-in', file, '-noout', '-text'])
    expect(extension(text, 'X509v3 Subject Alternative Name')).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
    expect(extension(text, 'X509v3 Extended Key Usage')).toBe('TLS Web Server Authentication')
  })
})

describe('serial numbers', () => {
  it('are positive, 128 bits long and distinct', () => {
    const serials = Array.from({ length: 5000 }, randomSerialNumber)
    expect(new Set(serials).size).toBe(serials.length)
    for (const serial of serials.slice(0, 100)) {
      expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/)
    }
  })
})
