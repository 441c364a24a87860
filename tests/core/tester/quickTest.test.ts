import { createPrivateKey } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { issueCertificate } from '../../../src-main/core/pki/certificates'
import { exportPrivateKeyPem, generateKeyPair } from '../../../src-main/core/pki/keys'
import type { ConnectionProfile } from '../../../src-main/core/tester/connectionProfile'
import { profileForDevice, profileFromBundle } from '../../../src-main/core/tester/profileSources'
import { runQuickTest } from '../../../src-main/core/tester/quickTest'
import { Workspace } from '../../../src-main/core/workspace'
import { type Fleet, makeFleet, runBrokerAsSettings, issuerOf } from '../../helpers/fleet'
import { startMosquitto } from '../../helpers/mosquitto'
import { freePort, openssl, temporaryFolder } from '../../helpers/tools'

let fleet: Fleet
let broker: RunningBroker
let stranger: Workspace

beforeAll(async () => {
  fleet = await makeFleet()
  broker = await runBrokerAsSettings(fleet.workspace)
  stranger = await Workspace.initialise(join(await temporaryFolder(), 'stranger'), { keyType: 'ec-p256' })
})

const forDevice = (device: string, options: { port?: number; certificateId?: string } = {}) =>
  profileForDevice(fleet.workspace, device, options)
const test = (profile: ConnectionProfile) => runQuickTest(profile, { certdeskDataDir: fleet.workspace.dataDir })

/** A server certificate from the fleet's root, for mosquitto, with validity starting `now`. */
async function serverCertificate(now = new Date(), days = 30) {
  const issuer = await issuerOf(fleet.workspace)
  const keys = await generateKeyPair('ec-p256')
  const facts = issueCertificate({
    commonName: 'localhost',
    publicKey: keys.publicKey,
    subjectKeyType: 'ec-p256',
    issuer,
    days,
    profile: { kind: 'server', names: ['localhost', '127.0.0.1'] },
    now,
  })
  return { caPem: fleet.rootPem, certificatePem: facts.pem, privateKeyPem: exportPrivateKeyPem(keys.privateKey) }
}

describe('quick test against the embedded broker', () => {
  it('passes on the one-way port for a token device and on the mutual port for a cert device', async () => {
    const oneWay = await test(await forDevice(fleet.tokenDevice.deviceId))
    expect(oneWay).toMatchObject({ pass: true, port: broker.oneWay.port })
    expect(oneWay.roundTripMs).toBeGreaterThanOrEqual(0)
    const mutual = await test(await forDevice(fleet.certDevice.deviceId))
    expect(mutual).toMatchObject({ pass: true, port: broker.mutual.port })
  })

  it("says how to test a certificate signed from a device's request, and passes with the device's own key", async () => {
    const device = await fleet.workspace.createDevice({ name: 'Own key', authType: 'cert', deviceId: 'tester-own-key-1' })
    const deviceKeys = await generateKeyPair('ec-p256')
    const keyFile = join(await temporaryFolder(), 'device.key')
    await writeFile(keyFile, exportPrivateKeyPem(deviceKeys.privateKey))
    const csr = await openssl(['req', '-new', '-key', keyFile, '-subj', '/CN=tester-own-key-1'])
    const { certificate } = await fleet.workspace.signCertificateRequest({ csr, name: 'Tester own key', device: device.deviceId })
    await expect(forDevice(device.deviceId)).rejects.toMatchObject({ code: 'CONFLICT', messageKey: 'tester.keyOnDevice' })
    // What the sentence says to do: the certificate and the device's key, given as PEM.
    const base = await forDevice(fleet.certDevice.deviceId)
    const result = await test({
      ...base,
      clientId: device.deviceId,
      username: device.username,
      tls: {
        ...base.tls,
        client: {
          mode: 'pem',
          certificatePem: await fleet.workspace.certificatePem(certificate.id),
          privateKeyPem: exportPrivateKeyPem(deviceKeys.privateKey),
        },
      },
    })
    expect(result).toMatchObject({ pass: true, port: broker.mutual.port })
  })

  it("explains MQTT refusals with the broker's own logged reason", async () => {
    const wrongKey = { ...(await forDevice(fleet.tokenDevice.deviceId)), password: 'x'.repeat(36) }
    expect((await test(wrongKey)).diagnosis).toMatchObject({ code: 'mqtt-bad-credentials', brokerReason: 'wrong device key' })

    await fleet.workspace.updateCertificate(fleet.certificate.id, { enabled: false })
    expect((await test(await forDevice(fleet.certDevice.deviceId))).diagnosis).toMatchObject({
      code: 'mqtt-not-authorized',
      brokerReason: 'certificate is disabled',
    })
    await fleet.workspace.updateCertificate(fleet.certificate.id, { enabled: true })

    const other = await fleet.workspace.createDevice({ name: 'Other', authType: 'cert', deviceId: 'other-device-01' })
    const unbound = { ...(await forDevice(fleet.certDevice.deviceId)), clientId: other.deviceId, username: other.username }
    expect((await test(unbound)).diagnosis).toMatchObject({
      code: 'mqtt-not-authorized',
      brokerReason: 'certificate is not bound to device other-device-01',
    })

    const unknown = { ...(await forDevice(fleet.tokenDevice.deviceId)), clientId: 'nobody-0001' }
    expect((await test(unknown)).diagnosis).toMatchObject({ code: 'mqtt-client-id-rejected', brokerReason: 'unknown device "nobody-0001"' })

    const version5 = { ...(await forDevice(fleet.tokenDevice.deviceId)), protocolVersion: 5 as const }
    expect((await test(version5)).diagnosis).toMatchObject({
      code: 'mqtt-unsupported-protocol',
      brokerReason: expect.stringMatching(/5\.0 is not served/),
    })
  })

  it('names an untrusted CA and a host name missing from the server certificate, with the chain', async () => {
    const profile = await forDevice(fleet.tokenDevice.deviceId)
    const untrusted = await test({
      ...profile,
      tls: { ...profile.tls, verification: { mode: 'pem', caPem: await stranger.rootCertificatePem() } },
    })
    expect(untrusted.diagnosis?.code).toBe('untrusted-ca')
    expect(untrusted.diagnosis?.serverChain?.[0]).toMatchObject({
      issuer: 'CN=Certdesk Root CA',
      fingerprint256: broker.serverCertificate.fingerprint256,
    })

    // The system's store does not know Certdesk's private root.
    const system = await test({ ...profile, tls: { ...profile.tls, verification: { mode: 'system' } } })
    expect(system.diagnosis?.code).toBe('untrusted-ca')

    const wrongName = await test({
      ...profile,
      tls: { ...profile.tls, verification: { ...profile.tls.verification, serverName: 'mqtt.elsewhere.example' } },
    })
    expect(wrongName.diagnosis?.code).toBe('host-name-mismatch')
    expect(wrongName.diagnosis?.summary).toMatch(
      /"mqtt\.elsewhere\.example" is not a name in the server's certificate, which has: .*localhost/,
    )
  })

  it('names a wrong key passphrase and a key from another certificate before connecting', async () => {
    const profile = await forDevice(fleet.certDevice.deviceId)
    const client = profile.tls.client
    const encrypted = createPrivateKey(client.privateKeyPem!).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'right passphrase',
    }) as string
    const withPassphrase = (passphrase?: string) => ({
      ...profile,
      tls: { ...profile.tls, client: { ...client, privateKeyPem: encrypted, passphrase } },
    })
    expect((await test(withPassphrase('wrong passphrase'))).diagnosis?.code).toBe('wrong-key-passphrase')
    expect((await test(withPassphrase(undefined))).diagnosis?.summary).toMatch(/encrypted and no passphrase/)
    expect((await test(withPassphrase('right passphrase'))).pass).toBe(true)

    // A client certificate from the right CA whose validity has ended.
    const issuer = await issuerOf(fleet.workspace)
    const keys = await generateKeyPair('ec-p256')
    const expired = issueCertificate({
      commonName: 'old',
      publicKey: keys.publicKey,
      subjectKeyType: 'ec-p256',
      issuer,
      days: 1,
      profile: { kind: 'device' },
      now: new Date(Date.now() - 5 * 86_400_000),
    })
    const old = await test({
      ...profile,
      tls: { ...profile.tls, client: { mode: 'pem', certificatePem: expired.pem, privateKeyPem: exportPrivateKeyPem(keys.privateKey) } },
    })
    expect(old.diagnosis?.code).toBe('client-certificate-expired')
    expect(old.diagnosis?.summary).toMatch(/^The client certificate expired on \d{4}-\d{2}-\d{2}\.$/)

    const future = issueCertificate({
      commonName: 'new',
      publicKey: keys.publicKey,
      subjectKeyType: 'ec-p256',
      issuer,
      days: 30,
      profile: { kind: 'device' },
      now: new Date(Date.now() + 3 * 86_400_000),
    })
    const early = await test({
      ...profile,
      tls: { ...profile.tls, client: { mode: 'pem', certificatePem: future.pem, privateKeyPem: exportPrivateKeyPem(keys.privateKey) } },
    })
    expect(early.diagnosis?.code).toBe('client-certificate-not-yet-valid')

    const otherKey = exportPrivateKeyPem((await generateKeyPair('ec-p256')).privateKey)
    const mismatched = await test({ ...profile, tls: { ...profile.tls, client: { ...client, privateKeyPem: otherKey } } })
    expect(mismatched.diagnosis?.code).toBe('key-certificate-mismatch')
  })

  it('names a refused connection, a timeout and a host name that does not resolve', async () => {
    const profile = await forDevice(fleet.tokenDevice.deviceId)
    expect((await test({ ...profile, port: await freePort() })).diagnosis?.code).toBe('connection-refused')
    // A TCP listener that never answers: the broker's host is up but its service hangs.
    const silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const hung = await test({ ...profile, host: '127.0.0.1', port: (silent.address() as { port: number }).port, connectTimeoutMs: 800 })
    expect(hung.diagnosis?.code).toBe('timeout')
    silent.close()
    expect((await test({ ...profile, host: 'no-such-broker.invalid' })).diagnosis?.code).toBe('dns')
  })
})

describe('ALPN', () => {
  it('names an ALPN mismatch with a TLS endpoint that requires one protocol', async () => {
    // A TLS endpoint that insists on ALPN "mqtt", as cloud brokers on port 443 do. It is a real
    // TLS server (Node's); the failure under test happens in the handshake, before any MQTT.
    const { createServer: createTlsServer } = await import('node:tls')
    const identity = await serverCertificate()
    const server = createTlsServer({ key: identity.privateKeyPem, cert: identity.certificatePem, ALPNProtocols: ['mqtt'] }, (socket) =>
      socket.end(),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const profile = await forDevice(fleet.tokenDevice.deviceId)
    const result = await test({
      ...profile,
      port: (server.address() as { port: number }).port,
      tls: { ...profile.tls, verification: { ...profile.tls.verification, alpnProtocols: ['x-amzn-mqtt-ca'] } },
    })
    server.close()
    expect(result.diagnosis, JSON.stringify(result.diagnosis)).toMatchObject({ code: 'alpn-mismatch' })
  })
})

describe('quick test against a real mosquitto', () => {
  it('passes with a Certdesk bundle, and explains a refused client certificate', async () => {
    const mosquitto = await startMosquitto({ ...(await serverCertificate()), requireCertificate: true })
    const zip = await fleet.workspace.exportDeviceBundle(fleet.certificate.id)
    const options = { host: 'localhost', port: mosquitto.port, clientId: fleet.certDevice.deviceId, username: fleet.certDevice.username }
    expect(await runQuickTest(profileFromBundle(zip, options))).toMatchObject({ pass: true })

    const strangerCertificate = await stranger.issueDeviceCertificate({ name: 'Stranger' })
    // The broker's CA stays trusted; only the client certificate comes from another CA.
    const ours = profileFromBundle(zip, options)
    const theirs = profileFromBundle(await stranger.exportDeviceBundle(strangerCertificate.id), options)
    const refused = await runQuickTest({ ...ours, tls: { ...ours.tls, client: theirs.tls.client } })
    expect(refused.diagnosis?.code).toBe('client-certificate-refused')

    const noCertificate = profileFromBundle(zip, options)
    const without = await runQuickTest({ ...noCertificate, tls: { ...noCertificate.tls, client: { mode: 'none' } } })
    expect(without.diagnosis?.code).toBe('client-certificate-refused')
    expect(without.diagnosis?.summary).toMatch(/requires a client certificate/)
  })

  it('explains an expired server certificate and a TLS version mismatch', async () => {
    // One clock reading for the certificate and the expectation: no midnight can fall between them.
    const now = Date.now()
    const expired = await startMosquitto({
      ...(await serverCertificate(new Date(now - 10 * 86_400_000), 2)),
      requireCertificate: false,
    })
    const zip = await fleet.workspace.exportDeviceBundle(fleet.certificate.id)
    const result = await runQuickTest(profileFromBundle(zip, { host: 'localhost', port: expired.port, clientId: 'x-device-01' }))
    expect(result.diagnosis?.code).toBe('server-certificate-expired')
    expect(result.diagnosis?.serverChain?.[0].validTo.slice(0, 10)).toBe(new Date(now - 8 * 86_400_000).toISOString().slice(0, 10))

    // A server certificate whose validity starts in two days: this computer's clock looks wrong.
    const early = await startMosquitto({
      ...(await serverCertificate(new Date(Date.now() + 2 * 86_400_000), 30)),
      requireCertificate: false,
    })
    const tooEarly = await runQuickTest(profileFromBundle(zip, { host: 'localhost', port: early.port, clientId: 'x-device-01' }))
    expect(tooEarly.diagnosis?.code).toBe('server-certificate-not-yet-valid')
    expect(tooEarly.diagnosis?.summary).toMatch(/check this computer's clock/)

    // mosquitto's tls_version is a minimum: a TLS 1.3-only broker and a client capped at 1.2.
    const tls13 = await startMosquitto({ ...(await serverCertificate()), requireCertificate: false, tlsVersion: 'tlsv1.3' })
    const profile = profileFromBundle(zip, { host: 'localhost', port: tls13.port, clientId: 'x-device-01' })
    const mismatch = await runQuickTest({
      ...profile,
      tls: { ...profile.tls, verification: { ...profile.tls.verification, maxVersion: 'TLSv1.2' } },
    })
    expect(mismatch.diagnosis, JSON.stringify(mismatch.diagnosis)).toMatchObject({ code: 'tls-version-mismatch' })
  })
})
