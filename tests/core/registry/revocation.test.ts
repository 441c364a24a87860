import { execFile } from 'node:child_process'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import type { CertificateView } from '../../../src-main/core/workspace'
import { type Fleet, closedWithin, connect, makeFleet, runBroker, unpackBundle } from '../../helpers/fleet'
import { startMosquitto } from '../../helpers/mosquitto'
import { command, openssl, temporaryFolder } from '../../helpers/tools'

const run = promisify(execFile)
let fleet: Fleet
let broker: RunningBroker
/** A second certificate, bound to a second device, revoked in the first test. */
let revoked: CertificateView
let revokedDir: string
let device: { deviceId: string; username: string }
let out: string

beforeAll(async () => {
  fleet = await makeFleet()
  broker = await runBroker(fleet.workspace)
  out = await temporaryFolder('certdesk-crl-')
  await chmod(out, 0o755)
  device = await fleet.workspace.createDevice({ name: 'Doomed device', authType: 'cert', deviceId: 'doomed-01' })
  const issued = await fleet.workspace.issueDeviceCertificate({ name: 'Doomed certificate' })
  revoked = await fleet.workspace.bindDevices(issued.id, [device.deviceId])
  // Unpacked while it may still be exported: after revocation its bundle is refused.
  revokedDir = join(await unpackBundle(fleet.workspace, revoked.id, join(fleet.folder, 'doomed')), 'common_certs')
  await writeFile(join(out, 'root_ca.crt'), fleet.rootPem)
})

const files = (dir: string) => ({
  ca: Buffer.from(fleet.rootPem),
  cert: readFile(join(dir, 'common.crt')),
  key: readFile(join(dir, 'common.key')),
})
async function mutualOptions(dir: string, who: { deviceId: string; username: string }) {
  const f = files(dir)
  return { clientId: who.deviceId, username: who.username, ca: f.ca, cert: await f.cert, key: await f.key }
}

describe('revoking a certificate', () => {
  it('drops its live session and refuses it from then on, naming reason and date', async () => {
    const client = await connect(broker.mutual.port, await mutualOptions(revokedDir, device))
    const closed = closedWithin(client, 5000)
    const view = await fleet.workspace.revokeCertificate(revoked.id, 'keyCompromise')
    await closed
    expect(view).toMatchObject({ status: 'revoked', enabled: false, revocationReason: 'keyCompromise' })
    await broker.log.flushed()
    const dropped = broker.log.recent().at(-1)
    expect(dropped).toMatchObject({ result: 'disconnected', clientId: device.deviceId })
    expect(dropped?.reason).toBe(`certificate is revoked (keyCompromise, ${view.revokedAt})`)

    const refusal = await connect(broker.mutual.port, await mutualOptions(revokedDir, device)).then(
      async (c) => {
        await c.endAsync()
        return undefined
      },
      (error: { code?: number }) => error.code,
    )
    expect(refusal).toBe(5)
    await broker.log.flushed()
    expect(broker.log.recent().at(-1)?.reason).toMatch(/^certificate is revoked \(keyCompromise, /)
  })

  it('is final: enabling, binding, exporting and revoking again are refused with one sentence, nothing changed', async () => {
    const workspace = fleet.workspace
    const before = JSON.stringify(workspace.snapshot().certificates.get(revoked.id))
    const other = await workspace.createDevice({ name: 'Other', authType: 'cert', deviceId: 'doomed-02' })
    const refusals = [
      () => workspace.updateCertificate(revoked.id, { enabled: true }),
      () => workspace.bindDevices(revoked.id, [other.deviceId]),
      () => workspace.exportDeviceBundle(revoked.id),
      () => workspace.revokeCertificate(revoked.id, 'superseded'),
      () => workspace.exportCertificate(revoked.id, 'p12', { passphrase: 'export secret' }),
      () => workspace.exportCertificate(revoked.id, 'key', { passphrase: 'export secret' }),
      () => workspace.exportCertificate(revoked.id, 'zip'),
    ]
    const messages = []
    for (const attempt of refusals) {
      const error = (await attempt().then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: string; message?: string } | undefined
      expect(error?.code).toBe('CONFLICT')
      messages.push(error?.message)
    }
    expect(messages[0]).toMatch(
      /^Certificate "Doomed certificate" is revoked \(keyCompromise, .*\); revocation is final, so it cannot be enabled\.$/,
    )
    expect(messages[1]).toMatch(/cannot be bound to devices\.$/)
    expect(messages[2]).toMatch(/its bundle cannot be exported\.$/)
    expect(messages[3]).toMatch(/was already revoked on/)
    expect(messages[4]).toMatch(/its private key cannot be exported\.$/)
    expect(messages[5]).toMatch(/its private key cannot be exported\.$/)
    expect(messages[6]).toMatch(/its bundle cannot be exported\.$/)
    // Its certificate is public and stays exportable (to show a broker what was revoked, say).
    expect((await workspace.exportCertificate(revoked.id, 'pem')).toString()).toMatch(/^-----BEGIN CERTIFICATE-----/)
    expect(JSON.stringify(workspace.snapshot().certificates.get(revoked.id))).toBe(before)
    // It stays in the registry, and the audit log says who revoked it and why.
    expect(workspace.getCertificate(revoked.id).status).toBe('revoked')
    const entry = workspace.getAuditLog().entries.find((e) => e.action === 'certificate.revoke')
    expect(entry).toMatchObject({ target: revoked.id, detail: { reason: 'keyCompromise' } })
    await expect(workspace.revokeCertificate(fleet.certificate.id, 'bogus' as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    expect(workspace.getCertificate(fleet.certificate.id).status).toBe('active')
  })

  it('goes on a v2 CRL that openssl verifies, with its serial and reason, and numbers that increase', async () => {
    const first = await fleet.workspace.generateCrl({ days: 3 })
    const crl = await fleet.workspace.generateCrl()
    expect(crl.crlNumber).toBe(first.crlNumber + 1)
    expect(crl.revoked).toBe(1)
    await writeFile(join(out, 'crl.pem'), crl.pem)
    await writeFile(join(out, 'crl.der'), crl.der)
    await openssl(['crl', '-in', join(out, 'crl.pem'), '-CAfile', join(out, 'root_ca.crt'), '-verify', '-noout'])
    const text = await openssl(['crl', '-in', join(out, 'crl.der'), '-inform', 'DER', '-text', '-noout'])
    expect(text).toContain('Version 2')
    expect(text).toContain(`Serial Number: ${revoked.serial}`)
    expect(text).toContain('Key Compromise')
    expect(text).toMatch(new RegExp(`CRL Number: *\\n *${crl.crlNumber}\\b`))
    expect(text).toContain('Authority Key Identifier')
    expect(text).toContain('Next Update')
    expect(text).not.toContain(fleet.certificate.serial)

    const verify = (certificate: string) =>
      openssl(['verify', '-crl_check', '-CRLfile', join(out, 'crl.pem'), '-CAfile', join(out, 'root_ca.crt'), certificate]).then(
        (stdout) => stdout,
        (error: Error) => `failed: ${error.message}`,
      )
    expect(await verify(join(revokedDir, 'common.crt'))).toMatch(/failed:.*certificate revoked/s)
    expect(await verify(join(fleet.bundleDir, 'common_certs/common.crt'))).toMatch(/: OK/)
  })

  it("Debian's mosquitto with Certdesk's CA, broker identity and CRL accepts a valid bundle and refuses the revoked one", async () => {
    const crlPath = join(out, 'mosquitto-crl.pem')
    await writeFile(crlPath, (await fleet.workspace.generateCrl()).pem)
    await chmod(crlPath, 0o644)
    const brokerZip = join(out, 'broker.zip')
    await writeFile(brokerZip, await fleet.workspace.exportBrokerBundle())
    await command('unzip', ['-oq', brokerZip], out)
    const read = (name: string) => readFile(join(out, 'broker_certs', name), 'utf8')
    const mosquitto = await startMosquitto({
      caPem: await read('root_ca.crt'),
      certificatePem: await read('server.crt'),
      privateKeyPem: await read('server.key'),
      requireCertificate: true,
      extraConfig: [`crlfile ${crlPath}`],
    })
    const publish = (dir: string, who: { deviceId: string; username: string }) =>
      run('mosquitto_pub', [
        ...['-h', 'localhost', '-p', String(mosquitto.port), '--cafile', join(out, 'root_ca.crt')],
        ...['-i', who.deviceId, '-u', who.username, '--cert', join(dir, 'common.crt'), '--key', join(dir, 'common.key')],
        ...['-t', '/hello', '-m', 'hi', '-d'],
      ]).then(
        ({ stdout }) => stdout,
        () => 'refused',
      )
    expect(await publish(join(fleet.bundleDir, 'common_certs'), fleet.certDevice)).toContain('received CONNACK (0)')
    expect(await publish(revokedDir, device)).toBe('refused')
  })
})
