import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createDispatcher, implementApi } from '../../src-main/contract/dispatch'
import type { CertdeskEvent, Envelope } from '../../src-main/contract/types'
import { type Fleet, makeFleet, runBroker, runBrokerAsSettings } from '../helpers/fleet'
import { startMosquitto } from '../helpers/mosquitto'
import { openssl, whenFileEnds } from '../helpers/tools'
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
      messageKey: 'bundle.notZip',
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

describe('tester sessions through the contract', () => {
  it('holds several sessions at once, each event naming its own, and says why the embedded broker dropped one', async () => {
    const own = await makeFleet()
    await own.workspace.updateTopicRules([...own.workspace.getTopicRules().rules, { action: 'all', topic: 'bench/#', permission: 'allow' }])
    const broker = await runBrokerAsSettings(own.workspace)
    const events: CertdeskEvent[] = []
    // The front door reports the running broker, as the desktop app and browser mode do.
    const api = implementApi(own.workspace, {
      ...headlessFrontDoor(),
      brokerStatus: () => broker.status(),
      emit: (event) => events.push(event),
    })
    whenFileEnds(() => api.close())
    const call = createDispatcher(api)
    const connect = async (deviceId: string) =>
      value<{ sessionId: string }>(await call('testerConnect', [{ kind: 'device', deviceId }])).sessionId
    const token = await connect(own.tokenDevice.deviceId)
    const cert = await connect(own.certDevice.deviceId)
    const topicOf = { [token]: `bench/${own.tokenDevice.deviceId}`, [cert]: `bench/${own.certDevice.deviceId}` }
    for (const sessionId of [token, cert]) value(await call('testerSubscribe', [sessionId, topicOf[sessionId], 1]))
    for (const sessionId of [token, cert]) {
      value(
        await call('testerPublish', [
          sessionId,
          { topic: topicOf[sessionId], payload: sessionId, encoding: 'text', qos: 1, retain: false },
        ]),
      )
    }
    const heard = (sessionId: string) =>
      events
        .flatMap((e) => (e.type === 'tester-messages' && e.sessionId === sessionId ? e.messages : []))
        .filter((m) => m.direction === 'in')
    await expect.poll(() => [heard(token).length, heard(cert).length], { timeout: 5000 }).toEqual([1, 1])
    for (const sessionId of [token, cert]) {
      expect(heard(sessionId).map((m) => [m.topic, Buffer.from(m.payloadBase64, 'base64').toString()])).toEqual([
        [topicOf[sessionId], sessionId],
      ])
    }

    // MQTT 5 properties on these 3.1.1 sessions: refused, in a sentence and a code with its value.
    expect(
      await call('testerPublish', [
        token,
        {
          topic: topicOf[token],
          payload: 'x',
          encoding: 'text',
          qos: 0,
          retain: false,
          properties: { userProperties: [{ key: 'a', value: 'b' }] },
        },
      ]),
    ).toMatchObject({
      ok: false,
      code: 'INVALID_INPUT',
      error: 'MQTT 5 publish properties need an MQTT 5.0 connection, and this one is MQTT 3.1.1: choose 5.0 or remove the properties.',
      messageKey: 'tester.publishPropertiesNeedMqtt5',
    })

    // The certificate is disabled while connected: the broker drops the session within a second, and says why.
    await own.workspace.updateCertificate(own.certificate.id, { enabled: false })
    await expect
      .poll(() => events.filter((e) => e.type === 'tester-state' && e.sessionId === cert).at(-1), { timeout: 3000 })
      .toEqual({
        type: 'tester-state',
        sessionId: cert,
        state: 'disconnected',
        reason: "Certdesk's broker closed the connection: certificate is disabled.",
        reasonMessage: { key: 'tester.closedByCertdesk', params: { reason: 'certificate is disabled' } },
        brokerReason: 'certificate is disabled',
        brokerReasonMessage: { key: 'refusal.certificateDisabled' },
      })
    // The other session is untouched.
    value(await call('testerPublish', [token, { topic: topicOf[token], payload: 'still here', encoding: 'text', qos: 1, retain: false }]))
    await expect.poll(() => heard(token).length, { timeout: 5000 }).toBe(2)
    value(await call('testerDisconnect', [token]))
  })

  it('takes a manual MQTT 5.0 request with a will and CONNECT properties to a real mosquitto, and refuses them on 3.1.1', async () => {
    const server = await fleet.workspace.ensureBrokerServerCertificate()
    // Packets of 1,000 bytes at most: a bigger one is answered with DISCONNECT 0x95.
    const mosquitto = await startMosquitto({
      caPem: fleet.rootPem,
      certificatePem: server.certificatePem,
      privateKeyPem: server.privateKeyPem,
      requireCertificate: false,
      extraConfig: ['max_packet_size 1000'],
    })
    const events: CertdeskEvent[] = []
    const api = implementApi(fleet.workspace, { ...headlessFrontDoor(), emit: (event) => events.push(event) })
    whenFileEnds(() => api.close())
    const call = createDispatcher(api)
    const manual = (clientId: string, more: Record<string, unknown> = {}) => ({
      kind: 'manual',
      host: 'localhost',
      port: mosquitto.port,
      clientId,
      protocolVersion: 5,
      verification: { mode: 'certdesk' },
      client: { mode: 'none' },
      ...more,
    })
    const watcher = value<{ sessionId: string }>(await call('testerConnect', [manual('contract-watcher')])).sessionId
    value(await call('testerSubscribe', [watcher, 'lab/status/#', 1]))
    const will = { topic: 'lab/status/contract-pump', payload: '{"online": false}', encoding: 'json', qos: 1, retain: false }
    const connectProperties = { sessionExpiryInterval: 0, receiveMaximum: 10, userProperties: [{ key: 'site', value: 'north' }] }
    const pump = value<{ sessionId: string }>(await call('testerConnect', [manual('contract-pump', { will, connectProperties })])).sessionId
    value(await call('testerPublish', [pump, { topic: 'lab/big', payload: 'x'.repeat(2000), encoding: 'text', qos: 0, retain: false }]))
    await expect
      .poll(() => events.filter((e) => e.type === 'tester-state' && e.sessionId === pump).at(-1), { timeout: 3000 })
      .toMatchObject({ state: 'disconnected', reasonCode: 149 })
    const heard = () =>
      events.flatMap((e) => (e.type === 'tester-messages' && e.sessionId === watcher ? e.messages : [])).filter((m) => m.direction === 'in')
    await expect
      .poll(() => heard().map((m) => [m.topic, Buffer.from(m.payloadBase64, 'base64').toString()]), { timeout: 5000 })
      .toEqual([['lab/status/contract-pump', '{"online":false}']])

    const refusal =
      'MQTT 5 CONNECT properties need an MQTT 5.0 connection, and this one is MQTT 3.1.1: choose 5.0 or remove the properties.'
    for (const operation of ['testerConnect', 'runQuickTest']) {
      expect(await call(operation, [manual('contract-v4', { protocolVersion: 4, connectProperties })])).toMatchObject({
        ok: false,
        code: 'INVALID_INPUT',
        error: refusal,
      })
    }
    value(await call('testerDisconnect', [watcher]))
  })

  it('checks the shape of a will and of MQTT 5 properties, and keeps them in a saved profile', async () => {
    const publish = (properties: unknown) =>
      dispatch('testerPublish', [randomUUID(), { topic: 't', payload: 'x', encoding: 'text', qos: 0, retain: false, properties }])
    expect(await publish({ userProperties: { a: 'b' } })).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST',
      params: { at: '1.properties.userProperties' },
    })
    expect(await publish({ messageExpiryInterval: -1 })).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    expect(await publish({ payloadFormatIndicator: true })).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    // Well formed, it reaches the sessions, which know no such connection.
    expect(await publish({ contentType: 'text/plain' })).toMatchObject({
      ok: false,
      error: 'That tester connection is closed; connect again.',
    })

    const request = {
      kind: 'manual',
      host: 'broker.example',
      port: 8883,
      clientId: 'pump-0001',
      password: 'secret-password',
      protocolVersion: 5,
      will: { topic: 'pumps/pump-0001/status', payload: 'offline', encoding: 'text', qos: 1, retain: true },
      connectProperties: { sessionExpiryInterval: 3600, receiveMaximum: 20, userProperties: [{ key: 'site', value: 'north' }] },
      verification: { mode: 'certdesk' },
      client: { mode: 'none' },
    }
    expect(await dispatch('testerConnect', [{ ...request, will: { topic: 'pumps/status' } }])).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST',
      params: { at: '0.will.payload' },
    })
    expect(await dispatch('testerConnect', [{ ...request, connectProperties: { receiveMaximum: 0 } }])).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST',
      params: { at: '0.connectProperties.receiveMaximum' },
    })
    const saved = value<{ id: string; request: unknown }>(await dispatch('saveTesterProfile', ['With a will', request]))
    try {
      const { password: _password, ...kept } = request
      expect(saved.request).toEqual(kept)
      expect(value<{ request: unknown }[]>(await dispatch('listTesterProfiles', [])).map((profile) => profile.request)).toContainEqual(kept)
    } finally {
      await dispatch('deleteTesterProfile', [saved.id])
    }
  })
})
