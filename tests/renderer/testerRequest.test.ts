// The tester's forms → QuickTestRequest: only filled fields travel, only those the chosen modes
// use; no request (so no run) until the port is a real one; the broker's ports fill what was not
// chosen; a saved request goes back into the form it came from.
import { describe, expect, it } from 'vitest'
import type { ManualQuickTest } from '../../src-main/contract/types'
import {
  type ManualForm,
  applyEndpoints,
  deviceRequest,
  devicePort,
  emptyDeviceForm,
  emptyManualForm,
  formFromRequest,
  manualRequest,
  publishProperties,
  emptyPublishProperties,
  secretsToReenter,
  toRequest,
} from '../../src-renderer/src/testerRequest'

const endpoints = { host: 'broker.local', oneWayPort: 18883, mutualPort: 18884 }

function manual(change: (form: ManualForm) => void): ManualForm {
  const form = emptyManualForm()
  form.host = 'broker.local'
  form.port = 18883
  form.clientId = 'pump-7'
  change(form)
  return form
}

describe('the device form', () => {
  it('has no port until the broker has said, and no request until then', () => {
    const form = emptyDeviceForm('pump-7')
    expect(form.port).toBeNull()
    expect(deviceRequest(form)).toBeUndefined()
    expect(toRequest('device', { device: form, manual: emptyManualForm() })).toBeUndefined()
  })

  it("takes the device's own port: one-way for token devices, mutual for certificate devices", () => {
    expect(devicePort({ authType: 'token' }, endpoints)).toBe(18883)
    expect(devicePort({ authType: 'cert' }, endpoints)).toBe(18884)
    const forms = { device: emptyDeviceForm('camera-1'), manual: emptyManualForm() }
    applyEndpoints(forms, endpoints, { authType: 'cert' })
    expect(forms.device.port).toBe(18884)
  })

  it('leaves a port the operator chose, and waits for the device when the registry has not got it yet', () => {
    const chosen = { device: { ...emptyDeviceForm('camera-1'), port: 1883 }, manual: emptyManualForm() }
    applyEndpoints(chosen, endpoints, { authType: 'cert' })
    expect(chosen.device.port).toBe(1883)
    const unknown = { device: emptyDeviceForm('camera-1'), manual: emptyManualForm() }
    applyEndpoints(unknown, endpoints, undefined)
    expect(unknown.device.port).toBeNull()
  })

  it('sends the device, its port, and the host and certificate only when given', () => {
    expect(deviceRequest({ deviceId: 'pump-7', host: '  ', port: 18883, certificateId: '' })).toEqual({
      kind: 'device',
      deviceId: 'pump-7',
      port: 18883,
    })
    expect(deviceRequest({ deviceId: 'pump-7', host: ' mosquitto.lan ', port: 8884, certificateId: 'crt_1' })).toEqual({
      kind: 'device',
      deviceId: 'pump-7',
      port: 8884,
      host: 'mosquitto.lan',
      certificateId: 'crt_1',
    })
  })

  it('refuses ports that are not ports', () => {
    for (const port of [0, -1, 65536, 1.5]) expect(deviceRequest({ ...emptyDeviceForm('pump-7'), port })).toBeUndefined()
    expect(deviceRequest({ ...emptyDeviceForm(''), port: 18883 })).toBeUndefined()
  })
})

describe('the manual form', () => {
  it("takes the broker's one-way port and host as defaults, once known, and keeps what was typed", () => {
    const forms = { device: emptyDeviceForm(), manual: emptyManualForm() }
    expect(manualRequest(forms.manual)).toBeUndefined()
    applyEndpoints(forms, endpoints, undefined)
    expect([forms.manual.host, forms.manual.port]).toEqual(['broker.local', 18883])
    forms.manual.host = 'other'
    forms.manual.port = 1883
    applyEndpoints(forms, { host: 'x', oneWayPort: 1, mutualPort: 2 }, undefined)
    expect([forms.manual.host, forms.manual.port]).toEqual(['other', 1883])
  })

  it('sends only filled fields', () => {
    expect(manualRequest(manual(() => undefined))).toEqual({
      kind: 'manual',
      host: 'broker.local',
      port: 18883,
      clientId: 'pump-7',
      protocolVersion: 4,
      keepalive: 30,
      clean: true,
      verification: { mode: 'certdesk' },
      client: { mode: 'none' },
    })
    const request = manualRequest(
      manual((form) => {
        form.host = ' broker.local '
        form.username = 'pump-7'
        form.password = ' secret '
        form.protocolVersion = 5
        form.verification.serverName = ' broker.example '
        form.verification.minVersion = 'TLSv1.3'
        form.verification.alpn = ' mqtt, , x-amzn-mqtt-ca '
      }),
    )
    expect(request).toMatchObject({
      host: 'broker.local',
      username: 'pump-7',
      password: ' secret ',
      protocolVersion: 5,
      verification: { mode: 'certdesk', serverName: 'broker.example', minVersion: 'TLSv1.3', alpnProtocols: ['mqtt', 'x-amzn-mqtt-ca'] },
    })
  })

  it('sends the material of the chosen modes only', () => {
    const filled = (verification: ManualForm['verification']['mode'], client: ManualForm['client']['mode']) =>
      manualRequest(
        manual((form) => {
          form.verification = { ...form.verification, mode: verification, caPem: 'CA' }
          form.client = {
            mode: client,
            certificateId: 'crt_1',
            certificatePem: 'CERT',
            privateKeyPem: 'KEY',
            pkcs12Base64: 'P12',
            passphrase: 'pass',
          }
        }),
      ) as ManualQuickTest
    expect(filled('pem', 'pem')).toMatchObject({
      verification: { mode: 'pem', caPem: 'CA' },
      client: { mode: 'pem', certificatePem: 'CERT', privateKeyPem: 'KEY', passphrase: 'pass' },
    })
    expect(filled('pem', 'pem').client).not.toHaveProperty('pkcs12Base64')
    expect(filled('system', 'none')).toMatchObject({ verification: { mode: 'system' }, client: { mode: 'none' } })
    expect(filled('system', 'none').verification).not.toHaveProperty('caPem')
    expect(filled('system', 'none').client).toEqual({ mode: 'none' })
    expect(filled('certdesk', 'certdesk').client).toEqual({ mode: 'certdesk', certificateId: 'crt_1' })
    expect(filled('off', 'pkcs12').client).toEqual({ mode: 'pkcs12', pkcs12Base64: 'P12', passphrase: 'pass' })
  })

  it('makes no request without a host or a real port', () => {
    expect(manualRequest(manual((form) => (form.host = '  ')))).toBeUndefined()
    expect(manualRequest(manual((form) => (form.port = null)))).toBeUndefined()
    expect(manualRequest(manual((form) => (form.port = 0)))).toBeUndefined()
  })
})

describe('a saved request back in the form', () => {
  it('fills the device form', () => {
    expect(formFromRequest({ kind: 'device', deviceId: 'pump-7', port: 8884, certificateId: 'crt_1' })).toEqual({
      mode: 'device',
      device: { deviceId: 'pump-7', host: '', port: 8884, certificateId: 'crt_1' },
    })
    // Saved without a port: the broker's port fills it later.
    expect(formFromRequest({ kind: 'device', deviceId: 'pump-7' })).toMatchObject({ device: { port: null } })
  })

  it('fills the manual form so that it makes the same request again', () => {
    const form = manual((f) => {
      f.username = 'u'
      f.protocolVersion = 5
      f.keepalive = 10
      f.clean = false
      f.verification = { mode: 'pem', caPem: 'CA', serverName: 'sni', minVersion: 'TLSv1.2', alpn: 'mqtt, other' }
      f.client = { ...f.client, mode: 'pem', certificatePem: 'CERT' }
    })
    const request = manualRequest(form) as ManualQuickTest
    const back = formFromRequest(request)
    expect(back.mode).toBe('manual')
    if (back.mode !== 'manual') return
    expect(manualRequest(back.manual)).toEqual(request)
    // A secret stripped when it was saved comes back empty, to be entered again.
    expect(back.manual.client.privateKeyPem).toBe('')
    expect(back.manual.verification.alpn).toBe('mqtt, other')
  })
})

describe('the Last Will and MQTT 5 properties', () => {
  it('sends a will only when enabled with a topic, and keeps it through a saved profile', () => {
    expect(manualRequest(manual((f) => (f.will.topic = 'status/pump-7')))?.will).toBeUndefined()
    const form = manual((f) => {
      f.will = { enabled: true, topic: ' status/pump-7 ', payload: 'offline', encoding: 'text', qos: 1, retain: true }
    })
    const request = manualRequest(form) as ManualQuickTest
    expect(request.will).toEqual({ topic: 'status/pump-7', payload: 'offline', encoding: 'text', qos: 1, retain: true })
    const back = formFromRequest(request)
    expect(back.mode === 'manual' && back.manual.will).toEqual({ ...request.will, enabled: true })
    expect(manualRequest(manual((f) => (f.will = { ...form.will, enabled: false })))?.will).toBeUndefined()
  })

  it('sends CONNECT properties with protocol 5 only, without empty rows, and reloads them', () => {
    const change = (f: ManualForm) => {
      f.connectProperties = {
        sessionExpiryInterval: 3600,
        receiveMaximum: null,
        userProperties: [
          { key: ' site ', value: 'plant-2' },
          { key: '', value: 'ignored' },
          { key: 'site', value: 'line-4' },
        ],
      }
    }
    expect(manualRequest(manual(change))?.connectProperties).toBeUndefined()
    const request = manualRequest(
      manual((f) => {
        change(f)
        f.protocolVersion = 5
      }),
    ) as ManualQuickTest
    expect(request.connectProperties).toEqual({
      sessionExpiryInterval: 3600,
      userProperties: [
        { key: 'site', value: 'plant-2' },
        { key: 'site', value: 'line-4' },
      ],
    })
    const back = formFromRequest(request)
    expect(back.mode === 'manual' && back.manual.connectProperties).toEqual({
      sessionExpiryInterval: 3600,
      receiveMaximum: null,
      userProperties: request.connectProperties?.userProperties,
    })
    expect(manualRequest(manual((f) => (f.protocolVersion = 5)))?.connectProperties).toBeUndefined()
  })

  it('publishes only the properties given', () => {
    expect(publishProperties(emptyPublishProperties())).toBeUndefined()
    expect(
      publishProperties({
        userProperties: [{ key: 'trace', value: '42' }],
        contentType: ' application/json ',
        messageExpiryInterval: 0,
        responseTopic: '',
        correlationData: 'req-1',
      }),
    ).toEqual({
      userProperties: [{ key: 'trace', value: '42' }],
      contentType: 'application/json',
      messageExpiryInterval: 0,
      correlationData: 'req-1',
    })
  })
})

describe('a profile saved without its secrets', () => {
  it('names the secrets its modes need and it no longer holds', () => {
    const stripped = (change: (form: ManualForm) => void) => {
      const request = manualRequest(manual(change)) as ManualQuickTest
      const { password: _password, ...rest } = request
      return {
        ...rest,
        client: { mode: request.client.mode, certificateId: request.client.certificateId, certificatePem: request.client.certificatePem },
      }
    }
    expect(secretsToReenter(stripped(() => {}))).toEqual([])
    expect(
      secretsToReenter(
        stripped((f) => {
          f.username = 'pump-7'
          f.password = 'secret'
          f.client.mode = 'pem'
          f.client.certificatePem = 'CERT'
          f.client.privateKeyPem = 'KEY'
        }),
      ),
    ).toEqual(['password', 'privateKeyPem'])
    expect(secretsToReenter(stripped((f) => (f.client.mode = 'pkcs12')))).toEqual(['pkcs12Base64', 'passphrase'])
    expect(secretsToReenter({ kind: 'device', deviceId: 'pump-7', port: 18883 })).toEqual([])
  })
})
