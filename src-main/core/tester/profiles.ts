import AdmZip from 'adm-zip'
import { clientHostFor } from '../broker/endpoints'
import { CertdeskError, invalidInput } from '../errors'
import type { Workspace } from '../workspace'
import type { ConnectionProfile } from './profile'

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
  const settings = workspace.brokerSettings()
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
  const bound = device.certificates
  let certificateId = options.certificateId
  if (certificateId === undefined) {
    if (bound.length === 0) throw new CertdeskError('CONFLICT', `Device ${device.deviceId} has no bound certificate to test mutual TLS with; bind one first.`)
    if (bound.length > 1) throw invalidInput(`Device ${device.deviceId} has ${bound.length} certificates bound (${bound.join(', ')}); choose one.`)
    certificateId = bound[0]
  }
  const material = await workspace.certificateMaterial(certificateId)
  return { ...base, tls: { ...base.tls, client: { mode: 'pem', certificatePem: material.certificatePem, privateKeyPem: material.privateKeyPem } } }
}

/** The seed's bundle zip: `common_certs/root_ca.crt`, `common.crt` and `common.key`. */
export function readBundleZip(zip: Buffer): { caPem: string; certificatePem: string; privateKeyPem: string } {
  let entries: AdmZip.IZipEntry[]
  try {
    entries = new AdmZip(zip).getEntries()
  } catch {
    throw invalidInput('The file is not a zip archive.')
  }
  const find = (name: string) => {
    const entry = entries.find((e) => e.entryName === `common_certs/${name}` || e.entryName.endsWith(`/common_certs/${name}`))
    if (!entry) throw invalidInput(`The zip has no common_certs/${name}; it is not a Certdesk bundle.`)
    return entry.getData().toString('utf8')
  }
  return { caPem: find('root_ca.crt'), certificatePem: find('common.crt'), privateKeyPem: find('common.key') }
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
      verification: { mode: 'pem', caPem: bundle.caPem },
      client: { mode: 'pem', certificatePem: bundle.certificatePem, privateKeyPem: bundle.privateKeyPem, passphrase: options.passphrase },
    },
  }
}
