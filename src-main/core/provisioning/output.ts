import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type AdmZip from 'adm-zip'
import type * as CsvStringify from 'csv-stringify/sync'
import { lazyExport, lazyModule } from '../lazyModule'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import { BUNDLE_ENTRIES, buildDeviceBundle } from '../bundles/deviceBundle'
import { forEachConcurrently } from '../concurrency'
import { writeFailure } from '../store/files'
import type { ProvisioningResult } from './provision'

// Loaded when a table or a zip is written: every other command starts without them.
const csvStringify = lazyModule<typeof CsvStringify>('csv-stringify/sync')
const admZip = lazyExport<typeof AdmZip>('adm-zip')

const MANIFEST_FILE = 'manifest.csv'
/** Bundles written at once: enough to keep libuv's four threads busy. */
const BUNDLE_WRITE_CONCURRENCY = 16
const DEVICE_KEYS_FILE = 'device-keys.csv'

/** One line per row of the file: what it came to, and the certificate its device holds. */
function manifestCsv(result: ProvisioningResult): string {
  return csvStringify.stringify(
    result.rows.map((row) => ({
      device_id: row.deviceId,
      name: row.name,
      username: row.username,
      auth: row.authType,
      action: row.action,
      certificate: row.certificateName ?? '',
      serial: row.serial ?? '',
      fingerprint_sha256: row.fingerprint256 ?? '',
      not_after: row.notAfter ?? '',
    })),
    {
      header: true,
      columns: ['device_id', 'name', 'username', 'auth', 'action', 'certificate', 'serial', 'fingerprint_sha256', 'not_after'],
    },
  )
}

/** The new token devices' keys: their MQTT passwords, in the clear. */
function deviceKeysCsv(result: ProvisioningResult): string {
  return csvStringify.stringify(
    result.deviceKeys.map((entry) => ({ device_id: entry.deviceId, username: entry.username, device_key: entry.deviceKey })),
    { header: true, columns: ['device_id', 'username', 'device_key'] },
  )
}

const STORED = 0

/**
 * The run's output as one zip: `<device_id>.zip` (the seed's bundle) per certificate device,
 * `manifest.csv`, and `device-keys.csv` (entry mode 0600) when asked for.
 */
export function provisioningZip(result: ProvisioningResult, rootCertificatePem: string, includeDeviceKeys: boolean): Buffer {
  const zip = new (admZip())()
  const add = (name: string, data: Buffer, mode: number) => {
    zip.addFile(name, data, '', mode).header.method = STORED
  }
  for (const bundle of result.bundles) add(`${bundle.deviceId}.zip`, buildDeviceBundle({ ...bundle, rootCertificatePem }), 0o600)
  add(MANIFEST_FILE, Buffer.from(manifestCsv(result)), 0o644)
  if (includeDeviceKeys) add(DEVICE_KEYS_FILE, Buffer.from(deviceKeysCsv(result)), 0o600)
  return zip.toBuffer()
}

/** A new file, never over another; mode applied at creation (keys 0600). */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  try {
    await writeFile(path, data, { mode, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CertdeskError('CONFLICT', message('file.exists', { path }))
    throw writeFailure(error, path)
  }
}

/** Refuses a folder that holds anything: a run never mixes its bundles with older ones. */
async function assertOutputFolderFree(dir: string): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    if (code === 'ENOTDIR') throw new CertdeskError('CONFLICT', message('provisioning.outputNotEmpty', { path: dir }))
    throw writeFailure(error, dir)
  }
  if (entries.length > 0) throw new CertdeskError('CONFLICT', message('provisioning.outputNotEmpty', { path: dir }))
}

/**
 * Makes the (new or empty) output folder before a run, so a folder that cannot be written is
 * refused before the registry is; returns whether it was made here (to remove it if the run
 * writes nothing).
 */
export async function prepareOutputFolder(dir: string): Promise<boolean> {
  await assertOutputFolderFree(dir)
  try {
    return (await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined
  } catch (error) {
    throw writeFailure(error, dir)
  }
}

/**
 * The run's output as a folder: `<device_id>/common_certs/{common.crt,common.key,root_ca.crt}`
 * per certificate device, `manifest.csv`, and `device-keys.csv` when asked; keys 0600.
 */
export async function writeProvisioningFolder(
  dir: string,
  result: ProvisioningResult,
  rootCertificatePem: string,
  includeDeviceKeys: boolean,
): Promise<void> {
  await prepareOutputFolder(dir)
  // Several bundles at once: each file is a few round trips to libuv's pool, and one after
  // another they left the pool idle most of the time (4 ms a device at 2,000 devices).
  await forEachConcurrently(result.bundles, BUNDLE_WRITE_CONCURRENCY, async (bundle) => {
    const folder = join(dir, bundle.deviceId)
    try {
      await mkdir(join(folder, 'common_certs'), { recursive: true, mode: 0o700 })
    } catch (error) {
      throw writeFailure(error, folder)
    }
    await Promise.all([
      writeNew(join(folder, BUNDLE_ENTRIES.certificate), bundle.certificatePem, 0o644),
      bundle.privateKeyPem === null ? undefined : writeNew(join(folder, BUNDLE_ENTRIES.privateKey), bundle.privateKeyPem, 0o600),
      writeNew(join(folder, BUNDLE_ENTRIES.rootCertificate), rootCertificatePem, 0o644),
    ])
  })
  await writeNew(join(dir, MANIFEST_FILE), manifestCsv(result), 0o644)
  if (includeDeviceKeys) await writeNew(join(dir, DEVICE_KEYS_FILE), deviceKeysCsv(result), 0o600)
}
