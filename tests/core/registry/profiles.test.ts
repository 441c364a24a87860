import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { refusalOf } from '../../helpers/errors'
import { Workspace } from '../../../src-main/core/workspace'
import { openssl, temporaryFolder } from '../../helpers/tools'

let workspace: Workspace
let folder: string

beforeAll(async () => {
  folder = await temporaryFolder('certdesk-profiles-')
  workspace = await Workspace.initialise(join(folder, 'data'), { keyType: 'ec-p256' })
})

async function text(certificateId: string): Promise<string> {
  const path = join(folder, `${certificateId}.pem`)
  writeFileSync(path, await workspace.certificatePem(certificateId))
  return openssl(['x509', '-in', path, '-noout', '-text', '-nameopt', 'RFC2253'])
}

/** The extensions openssl prints, by name, in order. */
const extensionNames = (dump: string) =>
  [...dump.matchAll(/^\s+(X509v3 (?!extensions)[^:]+):( critical)? ?$/gm)].map((m) => m[1] + (m[2] ?? ''))

describe('the built-in default profile', () => {
  it('is listed first, cannot be changed or deleted, and makes the certificates Certdesk always made', async () => {
    const [first] = workspace.listProfiles()
    expect(first).toMatchObject({ name: 'default', builtIn: true, commonName: 'generated', days: 365 })
    expect((await refusalOf(workspace.updateProfile('default', { days: 10 }))).messageKey).toBe('profile.builtIn')
    expect((await refusalOf(workspace.deleteProfile('DEFAULT'))).messageKey).toBe('profile.builtIn')
    expect((await refusalOf(workspace.createProfile({ name: 'default' }))).messageKey).toBe('profile.builtIn')

    const view = await workspace.issueDeviceCertificate({ name: 'Plain' })
    const dump = await text(view.id)
    expect(view.profile).toBe('default')
    // Subject: the generated common name alone; extensions exactly these, in this order.
    expect(dump).toMatch(/Subject: CN=[0-9a-f]{32}\n/)
    expect(extensionNames(dump)).toEqual([
      'X509v3 Basic Constraints critical',
      'X509v3 Key Usage critical',
      'X509v3 Extended Key Usage',
      'X509v3 Subject Key Identifier',
      'X509v3 Authority Key Identifier',
    ])
    expect(dump).toContain('CA:FALSE')
    expect(dump).toMatch(/Key Usage: critical\n\s+Digital Signature\n/)
    expect(dump).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n/)
  })
})

describe('an operator profile', () => {
  it('shapes subject, alternative names, usages, key type and validity, with the device ID filled in', async () => {
    await workspace.createProfile({
      name: 'acme-fleet',
      description: 'Acme sensors',
      keyType: 'rsa2048',
      days: 30,
      commonName: 'deviceId',
      organization: 'Acme GmbH',
      organizationalUnit: 'Sensors',
      country: 'DE',
      subjectAltNames: ['uri:urn:acme:device:{deviceId}', 'dns:{deviceId}.devices.acme.example', 'email:ops@acme.example'],
      keyUsage: ['digitalSignature', 'keyAgreement'],
      extendedKeyUsage: ['clientAuth', 'serverAuth'],
    })
    const device = await workspace.createDevice({ name: 'Sensor', authType: 'cert', deviceId: 'acme-sensor-001' })
    // The common name is the device ID: without a device it cannot be made.
    const missing = await refusalOf(workspace.issueDeviceCertificate({ name: 'No device', profile: 'acme-fleet' }))
    expect(missing.message).toBe('Profile "acme-fleet" puts the device ID in the certificate; name the device it is for.')
    expect(workspace.listCertificates().some((c) => c.name === 'No device')).toBe(false)

    const view = await workspace.issueDeviceCertificate({ name: 'Acme 1', profile: 'ACME-FLEET', device: device.deviceId })
    expect(view).toMatchObject({ cn: 'acme-sensor-001', keyType: 'rsa2048', profile: 'acme-fleet', boundDeviceIds: ['acme-sensor-001'] })
    expect(Date.parse(view.notAfter) - Date.now()).toBeGreaterThan(29.9 * 86_400_000)
    expect(Date.parse(view.notAfter) - Date.now()).toBeLessThan(30.1 * 86_400_000)
    const dump = await text(view.id)
    expect(dump).toContain('Subject: CN=acme-sensor-001,OU=Sensors,O=Acme GmbH,C=DE')
    expect(dump).toContain('URI:urn:acme:device:acme-sensor-001, DNS:acme-sensor-001.devices.acme.example, email:ops@acme.example')
    expect(dump).toMatch(/Key Usage: critical\n\s+Digital Signature, Key Encipherment, Key Agreement\n/)
    expect(dump).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication, TLS Web Server Authentication\n/)
    expect(dump).toContain('Public-Key: (2048 bit)')
    const root = join(folder, 'root.pem')
    writeFileSync(root, await workspace.rootCertificatePem())
    expect(await openssl(['verify', '-CAfile', root, '-purpose', 'sslclient', join(folder, `${view.id}.pem`)])).toContain('OK')
  })

  it('takes the certificate name as common name when asked, and a profile change applies to later certificates only', async () => {
    await workspace.createProfile({
      name: 'by-name',
      commonName: 'certificateName',
      subjectAltNames: ['dns:{name}.example', 'uri:urn:cn:{cn}'],
    })
    const first = await workspace.issueDeviceCertificate({ name: 'gateway-7', profile: 'by-name' })
    expect(first.cn).toBe('gateway-7')
    expect(await text(first.id)).toContain('DNS:gateway-7.example, URI:urn:cn:gateway-7')
    const updated = await workspace.updateProfile('by-name', { organization: 'Later Org' })
    expect(updated).toMatchObject({ organization: 'Later Org', commonName: 'certificateName' })
    const second = await workspace.issueDeviceCertificate({ name: 'gateway-8', profile: 'by-name' })
    expect(await text(second.id)).toContain('Subject: CN=gateway-8,O=Later Org')
    expect(await text(first.id)).not.toContain('Later Org')
    // "" removes an optional field.
    expect((await workspace.updateProfile('by-name', { organization: '' })).organization).toBeUndefined()
    await workspace.deleteProfile('by-name')
    expect(workspace.getCertificate(first.id).profile).toBe('by-name')
    expect((await refusalOf(workspace.issueDeviceCertificate({ name: 'gone', profile: 'by-name' }))).code).toBe('NOT_FOUND')
  })

  it('refuses bad values with one sentence each and stores nothing', async () => {
    const before = readFileSync(join(folder, 'data', 'config.json'), 'utf8')
    const cases: [Parameters<Workspace['createProfile']>[0], string][] = [
      [{ name: 'bad name!' }, 'profile.badName'],
      [{ name: 'p1', country: 'Germany' }, 'profile.badCountry'],
      [{ name: 'p1', subjectAltNames: ['host.example'] }, 'profile.badAlternativeName'],
      [{ name: 'p1', subjectAltNames: ['dns:{serial}.example'] }, 'profile.unknownPlaceholder'],
      [{ name: 'p1', subjectAltNames: ['ip:not-an-address'] }, 'profile.badAlternativeName'],
      [{ name: 'p1', extendedKeyUsage: ['serverAuth'] }, 'profile.badExtendedKeyUsage'],
      [{ name: 'p1', keyUsage: [] }, 'profile.badKeyUsage'],
      [{ name: 'p1', days: 0 }, 'validation.certificateDays'],
      [{ name: 'p1', commonName: 'serial' as never }, 'profile.badCommonName'],
      [{ name: 'p1', organization: 'x'.repeat(65) }, 'profile.badText'],
    ]
    for (const [input, key] of cases) {
      const error = await refusalOf(workspace.createProfile(input))
      expect(error.messageKey, JSON.stringify(input)).toBe(key)
      expect(error.message).not.toContain('\n')
    }
    expect(readFileSync(join(folder, 'data', 'config.json'), 'utf8')).toBe(before)
    await workspace.createProfile({ name: 'twice' })
    expect((await refusalOf(workspace.createProfile({ name: 'TWICE' }))).messageKey).toBe('profile.nameTaken')
  })

  it('refuses a token device for a device-ID profile', async () => {
    const token = await workspace.createDevice({ name: 'Token', authType: 'token', deviceId: 'token-sensor-01' })
    const error = await refusalOf(workspace.issueDeviceCertificate({ name: 'For token', profile: 'acme-fleet', device: token.deviceId }))
    expect(error.messageKey).toBe('binding.tokenDevice')
  })
})
