import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createDispatcher, implementApi } from '../../src-main/contract/dispatch'
import type { Envelope } from '../../src-main/contract/types'
import { type Fleet, makeFleet, runBroker } from '../helpers/fleet'
import { openssl } from '../helpers/tools'
import { headlessFrontDoor } from '../helpers/frontDoor'

let fleet: Fleet
let dispatch: ReturnType<typeof createDispatcher>

beforeAll(async () => {
  fleet = await makeFleet()
  const api = implementApi(fleet.workspace, headlessFrontDoor())
  dispatch = createDispatcher(api)
})

const value = <T>(envelope: Envelope) => {
  if (!envelope.ok) throw new Error(envelope.error)
  return envelope.value as T
}

describe('tester operations of the contract', () => {
  it('runs a manual quick test with a PKCS#12 file made by openssl, and names a wrong passphrase', async () => {
    const broker = await runBroker(fleet.workspace)
    const dir = join(fleet.bundleDir, 'common_certs')
    const p12 = join(fleet.folder, 'device.p12')
    await openssl([
      'pkcs12',
      '-export',
      '-in',
      join(dir, 'common.crt'),
      '-inkey',
      join(dir, 'common.key'),
      '-passout',
      'pass:p12 secret',
      '-out',
      p12,
    ])
    const request = async (passphrase: string) => ({
      kind: 'manual',
      host: 'localhost',
      port: broker.mutual.port,
      clientId: fleet.certDevice.deviceId,
      username: fleet.certDevice.username,
      protocolVersion: 4,
      keepalive: 15,
      clean: true,
      verification: { mode: 'certdesk' },
      client: { mode: 'pkcs12', pkcs12Base64: (await readFile(p12)).toString('base64'), passphrase },
    })
    expect(value<{ pass: boolean }>(await dispatch('runQuickTest', [await request('p12 secret')])).pass).toBe(true)
    const wrong = value<{ diagnosis: { code: string } }>(await dispatch('runQuickTest', [await request('not it')]))
    expect(wrong.diagnosis.code).toBe('wrong-key-passphrase')
  })

  it('reads a bundle zip the user chose, and refuses one that is not', async () => {
    const zip = await fleet.workspace.exportDeviceBundle(fleet.certificate.id)
    const bundle = value<{ rootCertificatePem: string; certificatePem: string; privateKeyPem: string }>(
      await dispatch('readBundleZip', [zip.toString('base64')]),
    )
    expect(bundle.rootCertificatePem).toBe(fleet.rootPem)
    expect(bundle.certificatePem).toBe(await readFile(join(fleet.bundleDir, 'common_certs/common.crt'), 'utf8'))
    expect(await dispatch('readBundleZip', [Buffer.from('not a zip').toString('base64')])).toEqual({
      ok: false,
      error: 'The file is not a zip archive.',
      code: 'INVALID_INPUT',
    })
  })

  it('saves profiles without secrets, replaces one by name, lists and deletes them', async () => {
    const request = {
      kind: 'manual',
      host: 'broker.example',
      port: 8884,
      clientId: 'pump-0001',
      username: 'pump-0001',
      password: 'secret-password',
      protocolVersion: 4,
      verification: { mode: 'certdesk' },
      client: { mode: 'pem', certificatePem: 'CERT', privateKeyPem: '-----BEGIN PRIVATE KEY-----', passphrase: 'secret-passphrase' },
    }
    const saved = value<{ id: string; request: Record<string, unknown> }>(await dispatch('saveTesterProfile', ['Pump on staging', request]))
    expect(JSON.stringify(saved.request)).not.toMatch(/secret|PRIVATE KEY/)
    expect(saved.request).toMatchObject({ host: 'broker.example', client: { mode: 'pem', certificatePem: 'CERT' } })
    const index = await readFile(join(fleet.workspace.dataDir, 'config.json'), 'utf8')
    expect(index).not.toMatch(/secret-password|secret-passphrase|PRIVATE KEY/)
    const again = value<{ id: string }>(await dispatch('saveTesterProfile', ['pump on staging', { ...request, port: 8883 }]))
    expect(again.id).toBe(saved.id)
    const listed = value<{ name: string; request: { port: number } }[]>(await dispatch('listTesterProfiles', []))
    expect(listed).toHaveLength(1)
    expect(listed[0].request.port).toBe(8883)
    await dispatch('deleteTesterProfile', [saved.id])
    expect(value<unknown[]>(await dispatch('listTesterProfiles', []))).toEqual([])
    expect(await dispatch('saveTesterProfile', ['', request])).toMatchObject({ ok: false, error: expect.stringMatching(/name is empty/) })
  })

  it('leaves out of the list a stored profile that no longer parses, and still lists the others', async () => {
    const good = value<{ id: string }>(
      await dispatch('saveTesterProfile', ['Good one', { kind: 'device', deviceId: fleet.tokenDevice.deviceId }]),
    )
    // Written past the contract, as an older version or a hand edit might have left them.
    const stale = [
      await fleet.workspace.saveTesterProfile('Old shape', { kind: 'manual', host: 'broker.example', port: 8883, protocolVersion: 3 }),
      await fleet.workspace.saveTesterProfile('Unknown field', {
        kind: 'device',
        deviceId: fleet.tokenDevice.deviceId,
        transport: 'websocket',
      }),
      await fleet.workspace.saveTesterProfile('Unknown kind', { kind: 'bundle', file: 'a.zip' }),
    ]
    try {
      const listed = await dispatch('listTesterProfiles', [])
      expect(listed).toEqual({
        ok: true,
        value: [
          {
            id: good.id,
            name: 'Good one',
            request: { kind: 'device', deviceId: fleet.tokenDevice.deviceId },
            createdAt: expect.any(String),
          },
        ],
      })
    } finally {
      for (const record of stale) await fleet.workspace.deleteTesterProfile(record.id)
      await dispatch('deleteTesterProfile', [good.id])
    }
    expect(value<unknown[]>(await dispatch('listTesterProfiles', []))).toEqual([])
  })

  it('returns a saved profile field by field, with every secret of the request gone', async () => {
    const request = {
      kind: 'manual',
      host: 'broker.example',
      port: 8884,
      clientId: 'pump-0001',
      password: 'secret-password',
      protocolVersion: 5,
      verification: { mode: 'pem', caPem: 'CA' },
      client: { mode: 'pkcs12', pkcs12Base64: 'c2VjcmV0', passphrase: 'secret-passphrase', privateKeyPem: 'secret-key' },
    }
    const saved = value<{ id: string; request: unknown }>(await dispatch('saveTesterProfile', ['Every secret', request]))
    try {
      expect(Object.keys(saved).sort()).toEqual(['createdAt', 'id', 'name', 'request'])
      expect(saved.request).toEqual({
        kind: 'manual',
        host: 'broker.example',
        port: 8884,
        clientId: 'pump-0001',
        protocolVersion: 5,
        verification: { mode: 'pem', caPem: 'CA' },
        client: { mode: 'pkcs12' },
      })
    } finally {
      await dispatch('deleteTesterProfile', [saved.id])
    }
  })
})
