// The tester's forms and the request they make: what the screen edits (strings, '' for "not
// given", a port that is null until known) and the QuickTestRequest the contract takes. Pure: no
// Vue, no calls, so the mapping is unit-tested on its own (tests/renderer/testerRequest.test.ts).
import type {
  ClientEndpoints,
  DeviceQuickTest,
  DeviceView,
  ManualQuickTest,
  MessageProperties,
  PayloadEncoding,
  QuickTestRequest,
  TesterPublish,
  UserProperty,
} from '../../src-main/contract/types'

export type TesterMode = 'device' | 'manual'

function emptyWill(): ManualForm['will'] {
  return { enabled: false, topic: '', payload: '', encoding: 'text', qos: 0, retain: false }
}

/** A registered device's test: its credentials stay in the main process. */
export interface DeviceForm {
  deviceId: string
  /** '' for the broker's own address. */
  host: string
  /** Null until the broker's ports are known (never a made-up 0 or 8883). */
  port: number | null
  /** '' for "the device's bound certificate" (or the only one). */
  certificateId: string
}

/** A connection described by hand, as the form holds it. */
export interface ManualForm {
  host: string
  port: number | null
  clientId: string
  username: string
  password: string
  protocolVersion: 4 | 5
  keepalive: number
  clean: boolean
  verification: {
    mode: ManualQuickTest['verification']['mode']
    caPem: string
    serverName: string
    minVersion: '' | 'TLSv1.2' | 'TLSv1.3'
    /** Comma-separated, as typed. */
    alpn: string
  }
  /** The Last Will: sent only when `enabled` and it has a topic. */
  will: { enabled: boolean; topic: string; payload: string; encoding: PayloadEncoding; qos: 0 | 1 | 2; retain: boolean }
  /** MQTT 5 CONNECT properties, sent with protocol 5 only; null for "not given". */
  connectProperties: { sessionExpiryInterval: number | null; receiveMaximum: number | null; userProperties: UserProperty[] }
  client: {
    mode: ManualQuickTest['client']['mode']
    certificateId: string
    certificatePem: string
    privateKeyPem: string
    pkcs12Base64: string
    passphrase: string
  }
}

export function emptyDeviceForm(deviceId = '', certificateId = ''): DeviceForm {
  return { deviceId, host: '', port: null, certificateId }
}

export function emptyManualForm(): ManualForm {
  return {
    host: '',
    port: null,
    clientId: '',
    username: '',
    password: '',
    protocolVersion: 4,
    keepalive: 30,
    clean: true,
    will: emptyWill(),
    connectProperties: { sessionExpiryInterval: null, receiveMaximum: null, userProperties: [] },
    verification: { mode: 'certdesk', caPem: '', serverName: '', minVersion: '', alpn: '' },
    client: { mode: 'none', certificateId: '', certificatePem: '', privateKeyPem: '', pkcs12Base64: '', passphrase: '' },
  }
}

/** A device's own port: one-way TLS for token devices, mutual TLS for certificate devices. */
export function devicePort(device: Pick<DeviceView, 'authType'>, endpoints: ClientEndpoints): number {
  return device.authType === 'cert' ? endpoints.mutualPort : endpoints.oneWayPort
}

/**
 * Fills what the operator has not chosen yet from where the broker says clients dial: the
 * device's own port, and the manual form's host and port (one-way TLS, as its default
 * verification and password suit). What was typed or loaded stays.
 */
export function applyEndpoints(
  forms: { device: DeviceForm; manual: ManualForm },
  endpoints: ClientEndpoints,
  device: Pick<DeviceView, 'authType'> | undefined,
): void {
  if (forms.device.port === null && device) forms.device.port = devicePort(device, endpoints)
  if (forms.manual.port === null) forms.manual.port = endpoints.oneWayPort
  if (!forms.manual.host) forms.manual.host = endpoints.host
}

const isPort = (port: number | null): port is number => port !== null && Number.isInteger(port) && port >= 1 && port <= 65535

/** Empty strings mean "not given". */
const given = (text: string): string | undefined => (text !== '' ? text : undefined)

/** The request for a device, or undefined until the form names a device and a real port. */
export function deviceRequest(form: DeviceForm): DeviceQuickTest | undefined {
  if (!form.deviceId || !isPort(form.port)) return undefined
  return {
    kind: 'device',
    deviceId: form.deviceId,
    port: form.port,
    ...(form.host.trim() ? { host: form.host.trim() } : {}),
    ...(form.certificateId ? { certificateId: form.certificateId } : {}),
  }
}

/**
 * The request described by hand, or undefined until it has a host and a real port. Only filled
 * fields travel, and only those the chosen modes use: a key pasted before switching to "none"
 * stays on the screen, not in the request (nor in a saved profile).
 */
export function manualRequest(form: ManualForm): ManualQuickTest | undefined {
  if (!form.host.trim() || !isPort(form.port)) return undefined
  const { verification, client } = form
  const alpnProtocols = verification.alpn
    .split(',')
    .map((protocol) => protocol.trim())
    .filter(Boolean)
  return {
    kind: 'manual',
    host: form.host.trim(),
    port: form.port,
    clientId: form.clientId,
    ...defined({ username: given(form.username), password: given(form.password) }),
    protocolVersion: form.protocolVersion,
    keepalive: form.keepalive,
    clean: form.clean,
    ...defined({ will: willRequest(form.will), connectProperties: form.protocolVersion === 5 ? connectProperties(form) : undefined }),
    verification: {
      mode: verification.mode,
      ...defined({
        caPem: verification.mode === 'pem' ? given(verification.caPem) : undefined,
        serverName: given(verification.serverName.trim()),
        minVersion: verification.minVersion || undefined,
        alpnProtocols: alpnProtocols.length ? alpnProtocols : undefined,
      }),
    },
    client: {
      mode: client.mode,
      ...defined({
        certificateId: client.mode === 'certdesk' ? given(client.certificateId) : undefined,
        certificatePem: client.mode === 'pem' ? given(client.certificatePem) : undefined,
        privateKeyPem: client.mode === 'pem' ? given(client.privateKeyPem) : undefined,
        pkcs12Base64: client.mode === 'pkcs12' ? given(client.pkcs12Base64) : undefined,
        passphrase: client.mode === 'pem' || client.mode === 'pkcs12' ? given(client.passphrase) : undefined,
      }),
    },
  }
}

function willRequest(will: ManualForm['will']): ManualQuickTest['will'] {
  if (!will.enabled || !will.topic.trim()) return undefined
  return { topic: will.topic.trim(), payload: will.payload, encoding: will.encoding, qos: will.qos, retain: will.retain }
}

/** User properties with a name; rows left empty do not travel. */
function filledUserProperties(rows: UserProperty[]): UserProperty[] | undefined {
  const filled = rows.filter((row) => row.key.trim() !== '').map((row) => ({ key: row.key.trim(), value: row.value }))
  return filled.length ? filled : undefined
}

function connectProperties(form: ManualForm): ManualQuickTest['connectProperties'] {
  const { sessionExpiryInterval, receiveMaximum, userProperties } = form.connectProperties
  const properties = defined({
    sessionExpiryInterval: sessionExpiryInterval ?? undefined,
    receiveMaximum: receiveMaximum ?? undefined,
    userProperties: filledUserProperties(userProperties),
  })
  return Object.keys(properties).length ? properties : undefined
}

/** The publish properties form of a 5.0 session, as the screen holds it. */
export interface PublishPropertiesForm {
  userProperties: UserProperty[]
  contentType: string
  messageExpiryInterval: number | null
  responseTopic: string
  correlationData: string
}

export function emptyPublishProperties(): PublishPropertiesForm {
  return { userProperties: [], contentType: '', messageExpiryInterval: null, responseTopic: '', correlationData: '' }
}

/** The MQTT 5 properties to publish with, or undefined when none is given. */
export function publishProperties(form: PublishPropertiesForm): MessageProperties | undefined {
  const properties = defined({
    userProperties: filledUserProperties(form.userProperties),
    contentType: given(form.contentType.trim()),
    messageExpiryInterval: form.messageExpiryInterval ?? undefined,
    responseTopic: given(form.responseTopic.trim()),
    correlationData: given(form.correlationData),
  })
  return Object.keys(properties).length ? properties : undefined
}

/**
 * The secrets a saved request needs and no longer holds (a saved profile is stripped of them):
 * a password for a username, the key of a pasted certificate, the PKCS#12 file and its
 * passphrase. In SECRET_FIELDS' names, for the screen to name them.
 */
export function secretsToReenter(request: QuickTestRequest): ('password' | 'privateKeyPem' | 'passphrase' | 'pkcs12Base64')[] {
  if (request.kind !== 'manual') return []
  const missing: ('password' | 'privateKeyPem' | 'passphrase' | 'pkcs12Base64')[] = []
  if (request.username && !request.password) missing.push('password')
  if (request.client.mode === 'pem' && !request.client.privateKeyPem) missing.push('privateKeyPem')
  if (request.client.mode === 'pkcs12') {
    if (!request.client.pkcs12Base64) missing.push('pkcs12Base64')
    if (!request.client.passphrase) missing.push('passphrase')
  }
  return missing
}

/** The fields of `values` that hold something. */
function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>
}

/** What the screen would send now; undefined while the form is not complete (no run offered then). */
export function toRequest(mode: TesterMode, forms: { device: DeviceForm; manual: ManualForm }): QuickTestRequest | undefined {
  return mode === 'device' ? deviceRequest(forms.device) : manualRequest(forms.manual)
}

/** A saved request back in the forms: which mode, and the form it fills (the other stays as it was). */
export function formFromRequest(
  request: QuickTestRequest,
): { mode: 'device'; device: DeviceForm } | { mode: 'manual'; manual: ManualForm } {
  if (request.kind === 'device') {
    return {
      mode: 'device',
      device: {
        deviceId: request.deviceId,
        host: request.host ?? '',
        port: request.port ?? null,
        certificateId: request.certificateId ?? '',
      },
    }
  }
  const empty = emptyManualForm()
  return {
    mode: 'manual',
    manual: {
      host: request.host,
      port: request.port,
      clientId: request.clientId,
      username: request.username ?? '',
      password: request.password ?? '',
      protocolVersion: request.protocolVersion,
      keepalive: request.keepalive ?? empty.keepalive,
      clean: request.clean ?? empty.clean,
      will: request.will ? { enabled: true, ...request.will } : empty.will,
      connectProperties: {
        sessionExpiryInterval: request.connectProperties?.sessionExpiryInterval ?? null,
        receiveMaximum: request.connectProperties?.receiveMaximum ?? null,
        userProperties: (request.connectProperties?.userProperties ?? []).map((row) => ({ ...row })),
      },
      verification: {
        mode: request.verification.mode,
        caPem: request.verification.caPem ?? '',
        serverName: request.verification.serverName ?? '',
        minVersion: request.verification.minVersion ?? '',
        alpn: (request.verification.alpnProtocols ?? []).join(', '),
      },
      client: {
        mode: request.client.mode,
        certificateId: request.client.certificateId ?? '',
        certificatePem: request.client.certificatePem ?? '',
        privateKeyPem: request.client.privateKeyPem ?? '',
        pkcs12Base64: request.client.pkcs12Base64 ?? '',
        passphrase: request.client.passphrase ?? '',
      },
    },
  }
}

/** What the operator is typing in one session's subscribe and publish forms, kept with the session. */
export interface SessionDrafts {
  subscribe: { topic: string; qos: 0 | 1 | 2 }
  publish: TesterPublish
  properties: PublishPropertiesForm
}

export function emptySessionDrafts(): SessionDrafts {
  return {
    subscribe: { topic: '/hello', qos: 1 },
    publish: { topic: '/hello', payload: '{"hello": "world"}', encoding: 'json', qos: 1, retain: false },
    properties: emptyPublishProperties(),
  }
}
