import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { refusalOf } from '../../helpers/errors'
import { type Fleet, connect, helloRoundTrip, makeFleet, runBroker, unpackBundle } from '../../helpers/fleet'
import { command, openssl, temporaryFolder } from '../../helpers/tools'
import { makeDeviceRequest } from '../../helpers/externalCa'
import { registryContents } from '../../helpers/registryContents'

let fleet: Fleet
let broker: RunningBroker
let out: string

beforeAll(async () => {
  fleet = await makeFleet()
  broker = await runBroker(fleet.workspace)
  out = await temporaryFolder('certdesk-renew-')
  await writeFile(join(out, 'root_ca.crt'), fleet.rootPem)
})

async function pemFile(certificateId: string, name: string): Promise<string> {
  const path = join(out, name)
  await writeFile(path, await fleet.workspace.certificatePem(certificateId))
  return path
}
const publicKeyOf = (path: string) => openssl(['x509', '-in', path, '-noout', '-pubkey'])
const subjectAndNames = (path: string) =>
  openssl(['x509', '-in', path, '-noout', '-subject', '-ext', 'subjectAltName,keyUsage,extendedKeyUsage'])

/** A device's own key and request, made by openssl as on the device. */
async function deviceRequest(name: string, extra: string[] = []): Promise<{ key: string; csr: string }> {
  const key = join(out, `${name}.key`)
  const csr = join(out, `${name}.csr`)
  await makeDeviceRequest(key, csr, extra)
  return { key, csr }
}

describe('renewing a certificate', () => {
  it('makes a new serial and key for the same subject, takes the name and the bindings, and the device connects with it', async () => {
    const workspace = fleet.workspace
    await workspace.createProfile({
      name: 'named',
      commonName: 'deviceId',
      organization: 'Acme',
      subjectAltNames: ['uri:urn:dev:{deviceId}'],
    })
    const device = await workspace.createDevice({ name: 'Renewing', authType: 'cert', deviceId: 'renew-device-1' })
    const old = await workspace.issueDeviceCertificate({ name: 'Renew me', profile: 'named', device: device.deviceId, days: 20 })
    const renewed = await workspace.renewCertificate(old.id)
    const previous = workspace.getCertificate(old.id)

    expect(renewed).toMatchObject({
      name: 'Renew me',
      cn: old.cn,
      renewedFrom: old.id,
      profile: 'named',
      status: 'active',
      boundDeviceIds: [device.deviceId],
    })
    expect(renewed.serial).not.toBe(old.serial)
    // The old one keeps working until it expires (a device switches at its own pace), under a new name.
    expect(previous).toMatchObject({
      name: `Renew me (serial ${old.serial.slice(0, 8)})`,
      status: 'active',
      boundDeviceIds: [device.deviceId],
    })
    // Same validity length as the old one when none is given.
    const length = (v: { notBefore: string; notAfter: string }) => Date.parse(v.notAfter) - Date.parse(v.notBefore)
    expect(Math.abs(length(renewed) - length(old))).toBeLessThan(5_000)

    const [oldPath, newPath] = [await pemFile(old.id, 'old.pem'), await pemFile(renewed.id, 'new.pem')]
    expect(await subjectAndNames(newPath)).toBe(await subjectAndNames(oldPath))
    expect(await publicKeyOf(newPath)).not.toBe(await publicKeyOf(oldPath))
    expect(await openssl(['verify', '-CAfile', join(out, 'root_ca.crt'), newPath])).toContain('OK')

    const dir = join(await unpackBundle(workspace, renewed.id, join(out, 'renewed')), 'common_certs')
    const client = await connect(broker.mutual.port, {
      clientId: device.deviceId,
      username: device.username,
      ca: fleet.rootPem,
      cert: await readFile(join(dir, 'common.crt')),
      key: await readFile(join(dir, 'common.key')),
    })
    expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
    await client.endAsync()
    expect(workspace.getAuditLog().entries.at(-1)).toMatchObject({ action: 'certificate.export' })
    expect(workspace.getAuditLog().entries.some((e) => e.action === 'certificate.renew' && e.target === renewed.id)).toBe(true)
  })

  it('with --same-key certifies the same key; with --revoke-old the old one is revoked as superseded and on the CRL', async () => {
    const workspace = fleet.workspace
    const old = await workspace.issueDeviceCertificate({ name: 'Keep my key' })
    const renewed = await workspace.renewCertificate(old.id, { sameKey: true, revokeOld: true, name: 'Keep my key 2', days: 10 })
    expect(renewed.name).toBe('Keep my key 2')
    expect(workspace.getCertificate(old.id)).toMatchObject({
      name: 'Keep my key',
      status: 'revoked',
      revocationReason: 'superseded',
      enabled: false,
    })
    expect(await publicKeyOf(await pemFile(renewed.id, 'same-new.pem'))).toBe(await publicKeyOf(await pemFile(old.id, 'same-old.pem')))
    expect(Date.parse(renewed.notAfter) - Date.now()).toBeLessThan(10.1 * 86_400_000)
    const crl = await workspace.generateCrl()
    await writeFile(join(out, 'crl.pem'), crl.pem)
    const text = await openssl(['crl', '-in', join(out, 'crl.pem'), '-noout', '-text'])
    expect(text).toContain(`Serial Number: ${old.serial}`)
    expect(text).toMatch(new RegExp(`${old.serial}[\\s\\S]*?Superseded`))
  })

  it('refuses what it cannot do with one sentence and changes nothing', async () => {
    const workspace = fleet.workspace
    const doomed = await workspace.issueDeviceCertificate({ name: 'Compromised' })
    await workspace.revokeCertificate(doomed.id, 'keyCompromise')
    const before = registryContents(workspace.snapshot())
    expect((await refusalOf(workspace.renewCertificate(doomed.id, { sameKey: true }))).message).toBe(
      'Certificate "Compromised" is revoked; renew it with a new key, not its old one.',
    )
    expect((await refusalOf(workspace.renewCertificate(doomed.id, { days: 40_000 }))).messageKey).toBe('validation.certificateDays')
    expect((await refusalOf(workspace.renewCertificate(doomed.id, { name: fleet.certificate.name }))).messageKey).toBe(
      'certificate.nameTaken',
    )
    expect((await refusalOf(workspace.renewCertificate('crt_nothing'))).code).toBe('NOT_FOUND')
    expect(registryContents(workspace.snapshot())).toBe(before)
    // A compromised key's certificate is replaced with a new key.
    const replaced = await workspace.renewCertificate(doomed.id)
    expect(replaced).toMatchObject({ status: 'active', enabled: true, renewedFrom: doomed.id })
  })
})

describe('renewal racing a revocation', () => {
  it('does not certify a key revoked while its successor was being made', async () => {
    const workspace = fleet.workspace
    const certificate = await workspace.issueDeviceCertificate({ name: 'Raced' })
    // The renewal reads the old key and signs before its write; the revocation's write lands first.
    const renewing = workspace.renewCertificate(certificate.id, { sameKey: true })
    await workspace.revokeCertificate(certificate.id, 'keyCompromise')
    await expect(renewing).rejects.toMatchObject({ messageKey: 'certificate.renewRevokedSameKey' })
    expect(workspace.listCertificates().filter((c) => c.renewedFrom === certificate.id)).toEqual([])
  })
})

describe("signing a device's own request", () => {
  it("certifies the device's key with the profile's subject, keeps no private key, and bundles without one", async () => {
    const workspace = fleet.workspace
    const device = await workspace.createDevice({ name: 'Own key', authType: 'cert', deviceId: 'own-key-device-1' })
    const { key, csr } = await deviceRequest('own', [
      '-subj',
      '/CN=whatever-the-device-says/O=Evil',
      '-addext',
      'subjectAltName=DNS:evil.example',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ])
    const signed = await workspace.signCertificateRequest({
      csr: await readFile(csr, 'utf8'),
      name: 'Own key cert',
      profile: 'named',
      device: device.deviceId,
    })
    expect(signed.request).toEqual({
      requestedSubject: 'CN=whatever-the-device-says, O=Evil',
      requestedExtensions: ['subjectAltName', 'basicConstraints'],
    })
    expect(signed.certificate).toMatchObject({
      keyOrigin: 'csr',
      hasPrivateKey: false,
      cn: device.deviceId,
      boundDeviceIds: [device.deviceId],
    })
    const path = await pemFile(signed.certificate.id, 'own.pem')
    const dump = await openssl(['x509', '-in', path, '-noout', '-text'])
    // The profile decided: not the request's CA:TRUE, name or alternative name.
    expect(dump).toContain('CA:FALSE')
    expect(dump).toContain(`Subject: O = Acme, CN = ${device.deviceId}`)
    expect(dump).not.toContain('evil.example')
    expect(await publicKeyOf(path)).toBe(await openssl(['pkey', '-in', key, '-pubout']))

    // The bundle: certificate and root, a note where the key would be; nothing with a key.
    const dir = join(await unpackBundle(workspace, signed.certificate.id, join(out, 'own')), 'common_certs')
    expect((await command('ls', [dir])).split('\n').filter(Boolean).sort()).toEqual([
      'KEY-STAYS-ON-DEVICE.txt',
      'common.crt',
      'root_ca.crt',
    ])
    await expect(workspace.exportCertificate(signed.certificate.id, 'p12', { passphrase: 'a passphrase' })).rejects.toMatchObject({
      messageKey: 'export.noPrivateKey',
    })

    // The broker takes it like any other, with the key the device kept.
    const client = await connect(broker.mutual.port, {
      clientId: device.deviceId,
      username: device.username,
      ca: fleet.rootPem,
      cert: await readFile(join(dir, 'common.crt')),
      key: await readFile(key),
    })
    expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
    await client.endAsync()

    // Renewal keeps the device's key (Certdesk has no other); a revoked one must be re-requested.
    const renewed = await workspace.renewCertificate(signed.certificate.id, { revokeOld: true })
    expect(renewed).toMatchObject({ keyOrigin: 'csr', hasPrivateKey: false })
    expect(await publicKeyOf(await pemFile(renewed.id, 'own-renewed.pem'))).toBe(await publicKeyOf(path))
    expect((await refusalOf(workspace.renewCertificate(signed.certificate.id))).messageKey).toBe('certificate.renewRevokedFromRequest')
  })

  it('refuses a request that is not one, is tampered with, or holds an unsupported key, with one sentence and nothing stored', async () => {
    const workspace = fleet.workspace
    const before = registryContents(workspace.snapshot())
    const { csr } = await deviceRequest('tamper', ['-subj', '/CN=original-name'])
    const pem = await readFile(csr, 'utf8')
    // Change one letter of the signed subject: the signature no longer covers what is there.
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
    const at = der.indexOf(Buffer.from('original-name'))
    der[at] = 'O'.charCodeAt(0)
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
    const ed25519 = join(out, 'ed.csr')
    await openssl(['req', '-new', '-newkey', 'ed25519', '-nodes', '-keyout', join(out, 'ed.key'), '-subj', '/CN=ed', '-out', ed25519])
    const cases: [string, string][] = [
      [tampered, 'csr.badSignature'],
      [fleet.rootPem, 'csr.notPem'],
      ['-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', 'csr.unreadable'],
      [await readFile(ed25519, 'utf8'), 'csr.unsupportedKey'],
    ]
    for (const [text, key] of cases) {
      const error = await refusalOf(workspace.signCertificateRequest({ csr: text, name: `csr ${key}` }))
      expect(error.messageKey).toBe(key)
      expect(error.message).not.toContain('\n')
    }
    expect(registryContents(workspace.snapshot())).toBe(before)
  })
})

describe('the CRL distribution point', () => {
  it('is written into renewed and request-signed certificates as the CA has it now', async () => {
    const workspace = fleet.workspace
    const before = await workspace.issueDeviceCertificate({ name: 'Before the URL' })
    await workspace.setCrlDistributionPoint('http://pki.example/certdesk.crl')
    const renewed = await workspace.renewCertificate(before.id)
    const { csr } = await deviceRequest('dp', ['-subj', '/CN=dp'])
    const signed = await workspace.signCertificateRequest({ csr: await readFile(csr, 'utf8'), name: 'Signed with URL' })
    await workspace.setCrlDistributionPoint(null)
    const cleared = await workspace.renewCertificate(renewed.id)
    const points = async (id: string, file: string) =>
      openssl(['x509', '-in', await pemFile(id, file), '-noout', '-ext', 'crlDistributionPoints'])
    expect(await points(before.id, 'dp-before.pem')).toBe('')
    expect(await points(renewed.id, 'dp-renewed.pem')).toContain('URI:http://pki.example/certdesk.crl')
    expect(await points(signed.certificate.id, 'dp-signed.pem')).toContain('URI:http://pki.example/certdesk.crl')
    // Renewed again after clearing: the old URL is not carried over.
    expect(await points(cleared.id, 'dp-cleared.pem')).toBe('')
  })
})
