// Where a connection profile comes from: a registered device, a bundle zip, or a request the
// tester screen built by hand. Each reads what it needs (root, certificate, key) and returns
// a plain ConnectionProfile.
import { readBundleZip } from '../bundles/deviceBundle'
import { clientHostFor } from '../broker/endpoints'
import { CertdeskError, invalidInput } from '../errors'
import type { Workspace } from '../workspace'
import type { ConnectionProfile } from './connectionProfile'
import type { ManualQuickTest, QuickTestRequest } from './types'

const DEFAULTS = { protocolVersion: 4 as const, keepalive: 30, clean: true, connectTimeoutMs: 8000 }

/**
 * One click from a device: its client_id and username; its device key on the one-way port, or
 * its bound certificate (chosen when several are bound) on the mutual port — read from the store,
 * never from files. The server is verified against Certdesk's root CA.
 */
export async function profileForDevice(
  workspace: Workspace,
  deviceReference: string,
  options: { port?: number; host?: string; certificateId?: string } = {},
): Promise<ConnectionProfile> {
  const device = workspace.getDevice(deviceReference)
  const settings = workspace.getBrokerSettings()
  const port = options.port ?? (device.authType === 'cert' ? settings.mutualPort : settings.oneWayPort)
  const mutual = port === settings.mutualPort || (port !== settings.oneWayPort && device.authType === 'cert')
  const base: ConnectionProfile = {
    ...DEFAULTS,
    host: options.host ?? clientHostFor(settings.host),
    port,
    clientId: device.deviceId,
    username: device.username,
    tls: { verification: { mode: 'pem', caPem: await workspace.rootCertificatePem() }, client: { mode: 'none' } },
  }
  if (!mutual) return { ...base, password: await workspace.revealDeviceKey(device.id) }
  const bound = device.certificateIds
  let certificateId = options.certificateId
  if (certificateId === undefined) {
    if (bound.length === 0)
      throw new CertdeskError('CONFLICT', `Device ${device.deviceId} has no bound certificate to test mutual TLS with; bind one first.`)
    if (bound.length > 1)
      throw invalidInput(`Device ${device.deviceId} has ${bound.length} certificates bound (${bound.join(', ')}); choose one.`)
    certificateId = bound[0]
  }
  const material = await workspace.certificateMaterial(certificateId)
  return {
    ...base,
    tls: { ...base.tls, client: { mode: 'pem', certificatePem: material.certificatePem, privateKeyPem: material.privateKeyPem } },
  }
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
async function manualProfile(workspace: Workspace, request: ManualQuickTest): Promise<ConnectionProfile> {
  const { verification, client } = request
  const caPem = verification.mode === 'certdesk' ? await workspace.rootCertificatePem() : verification.caPem
  const material =
    client.mode === 'certdesk' && client.certificateId ? await workspace.certificateMaterial(client.certificateId) : undefined
  return {
    host: request.host,
    port: request.port,
    clientId: request.clientId,
    username: request.username,
    password: request.password,
    protocolVersion: request.protocolVersion,
    keepalive: request.keepalive ?? DEFAULTS.keepalive,
    clean: request.clean ?? DEFAULTS.clean,
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
  }
}

/** The profile a tester request describes: a registered device's, or one made by hand. */
export function profileForRequest(workspace: Workspace, request: QuickTestRequest): Promise<ConnectionProfile> {
  return request.kind === 'device' ? profileForDevice(workspace, request.deviceId, request) : manualProfile(workspace, request)
}
