// Where a connection profile comes from: a registered device, a bundle zip, or a request the
// tester screen built by hand. Each reads what it needs (root, certificate, key) and returns
// a plain ConnectionProfile, marked when it dials Certdesk's own broker (whose diagnoses can then
// give advice about the registry and name its ports).
import { networkInterfaces, hostname } from 'node:os'
import { readBundleZip } from '../bundles/deviceBundle'
import { clientHostFor } from '../broker/endpoints'
import { CertdeskError, invalidInput } from '../errors'
import { message } from '../messages'
import type { Workspace } from '../workspace'
import type { ConnectionProfile } from './connectionProfile'
import type { CertdeskBrokerTarget, DiagnosableProfile } from './diagnosis'
import type { ManualQuickTest, QuickTestRequest } from './types'

const DEFAULTS = { protocolVersion: 4 as const, keepalive: 30, clean: true, connectTimeoutMs: 8000 }

const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::'])

/**
 * Certdesk's own broker when `host:port` dials it: one of its two ports, at a name or address of
 * this machine it listens on (loopback, this machine's name or addresses when it listens on all
 * of them, the address it is bound to, the names its server certificate adds). Undefined for any
 * other broker, whose diagnoses then give no advice about Certdesk's registry.
 */
function certdeskBrokerAt(workspace: Workspace, host: string, port: number): CertdeskBrokerTarget | undefined {
  const settings = workspace.getBrokerSettings()
  if (port !== settings.oneWayPort && port !== settings.mutualPort) return undefined
  const names = new Set(['localhost', '127.0.0.1', '::1', hostname(), settings.host, clientHostFor(settings.host), ...settings.extraNames])
  if (WILDCARD_ADDRESSES.has(settings.host)) {
    for (const addresses of Object.values(networkInterfaces())) addresses?.forEach((address) => names.add(address.address))
  }
  const folded = new Set([...names].map((name) => name.toLowerCase()))
  const dialled = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (!folded.has(dialled)) return undefined
  return { oneWayPort: settings.oneWayPort, mutualPort: settings.mutualPort }
}

/** The profile, marked with Certdesk's broker when it dials it. */
function marked(workspace: Workspace, profile: ConnectionProfile): DiagnosableProfile {
  const certdeskBroker = certdeskBrokerAt(workspace, profile.host, profile.port)
  return certdeskBroker === undefined ? profile : { ...profile, certdeskBroker }
}

/**
 * One click from a device: its client_id and username; its device key on the one-way port, or
 * its bound certificate (chosen when several are bound) on the mutual port — read from the store,
 * never from files. The server is verified against Certdesk's root CA.
 */
export async function profileForDevice(
  workspace: Workspace,
  deviceReference: string,
  options: { port?: number; host?: string; certificateId?: string } = {},
): Promise<DiagnosableProfile> {
  const device = workspace.getDevice(deviceReference)
  const settings = workspace.getBrokerSettings()
  const port = options.port ?? (device.authType === 'cert' ? settings.mutualPort : settings.oneWayPort)
  const mutual = port === settings.mutualPort || (port !== settings.oneWayPort && device.authType === 'cert')
  // A token device has no certificate to bind: on the mutual port it is the port that is wrong.
  if (mutual && device.authType === 'token') {
    throw new CertdeskError(
      'CONFLICT',
      message('tester.tokenDeviceOnMutual', { deviceId: device.deviceId, oneWayPort: settings.oneWayPort, mutualPort: port }),
    )
  }
  const base: ConnectionProfile = {
    ...DEFAULTS,
    host: options.host ?? clientHostFor(settings.host),
    port,
    clientId: device.deviceId,
    username: device.username,
    tls: { verification: { mode: 'pem', caPem: await workspace.rootCertificatePem() }, client: { mode: 'none' } },
  }
  if (!mutual) return marked(workspace, { ...base, password: await workspace.revealDeviceKey(device.id) })
  const bound = device.certificateIds
  let certificateId = options.certificateId
  if (certificateId === undefined) {
    if (bound.length === 0) throw new CertdeskError('CONFLICT', message('tester.noBoundCertificate', { deviceId: device.deviceId }))
    if (bound.length > 1) {
      throw invalidInput(message('tester.severalBound', { deviceId: device.deviceId, count: bound.length, certificates: bound.join(', ') }))
    }
    certificateId = bound[0]
  }
  const material = await workspace.certificateMaterial(certificateId)
  return marked(workspace, {
    ...base,
    tls: { ...base.tls, client: { mode: 'pem', certificatePem: material.certificatePem, privateKeyPem: material.privateKeyPem } },
  })
}

/** A profile from a bundle zip, for brokers other than Certdesk's. */
export function profileFromBundle(
  zip: Buffer,
  options: { host: string; port: number; clientId: string; username?: string; password?: string; passphrase?: string },
): ConnectionProfile {
  const bundle = readBundleZip(zip)
  return {
    ...DEFAULTS,
    host: options.host,
    port: options.port,
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    tls: {
      verification: { mode: 'pem', caPem: bundle.rootCertificatePem },
      client: { mode: 'pem', certificatePem: bundle.certificatePem, privateKeyPem: bundle.privateKeyPem, passphrase: options.passphrase },
    },
  }
}

/** A hand-made profile; Certdesk's own root and certificates are read from the store here. */
async function manualProfile(workspace: Workspace, request: ManualQuickTest): Promise<DiagnosableProfile> {
  const { verification, client } = request
  const caPem = verification.mode === 'certdesk' ? await workspace.rootCertificatePem() : verification.caPem
  const material =
    client.mode === 'certdesk' && client.certificateId ? await workspace.certificateMaterial(client.certificateId) : undefined
  return marked(workspace, {
    host: request.host,
    port: request.port,
    clientId: request.clientId,
    username: request.username,
    password: request.password,
    protocolVersion: request.protocolVersion,
    keepalive: request.keepalive ?? DEFAULTS.keepalive,
    clean: request.clean ?? DEFAULTS.clean,
    will: request.will,
    connectProperties: request.connectProperties,
    connectTimeoutMs: DEFAULTS.connectTimeoutMs,
    tls: {
      verification: {
        mode: verification.mode === 'certdesk' ? 'pem' : verification.mode,
        caPem,
        serverName: verification.serverName,
        minVersion: verification.minVersion,
        alpnProtocols: verification.alpnProtocols,
      },
      client:
        client.mode === 'none'
          ? { mode: 'none' }
          : client.mode === 'pkcs12'
            ? { mode: 'pkcs12', pkcs12: Buffer.from(client.pkcs12Base64 ?? '', 'base64'), passphrase: client.passphrase }
            : {
                mode: 'pem',
                certificatePem: material?.certificatePem ?? client.certificatePem,
                privateKeyPem: material?.privateKeyPem ?? client.privateKeyPem,
                passphrase: client.passphrase,
              },
    },
  })
}

/** The profile a tester request describes: a registered device's, or one made by hand. */
export function profileForRequest(workspace: Workspace, request: QuickTestRequest): Promise<DiagnosableProfile> {
  return request.kind === 'device' ? profileForDevice(workspace, request.deviceId, request) : manualProfile(workspace, request)
}
