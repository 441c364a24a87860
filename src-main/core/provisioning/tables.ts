import type * as CsvStringify from 'csv-stringify/sync'
import { lazyModule } from '../lazyModule'
import type { CertificateView, DeviceView } from '../registry/views'

// Loaded when a table or a zip is written: every other command starts without them.
const csvStringify = lazyModule<typeof CsvStringify>('csv-stringify/sync')

/**
 * The devices as a table (`device export --csv`): device IDs, names, usernames, authentication
 * and the names of their bound certificates. Device keys only when given (`--include-device-keys`).
 */
export function devicesCsv(
  devices: readonly DeviceView[],
  certificates: readonly CertificateView[],
  deviceKeys?: ReadonlyMap<string, string>,
): string {
  const names = new Map(certificates.map((certificate) => [certificate.id, certificate.name]))
  const columns = ['device_id', 'name', 'username', 'auth', 'certificates', 'created_at', ...(deviceKeys ? ['device_key'] : [])]
  return csvStringify.stringify(
    devices.map((device) => ({
      device_id: device.deviceId,
      name: device.name,
      username: device.username,
      auth: device.authType,
      certificates: device.certificateIds.map((id) => names.get(id) ?? id).join(';'),
      created_at: device.createdAt,
      ...(deviceKeys ? { device_key: deviceKeys.get(device.id) ?? '' } : {}),
    })),
    { header: true, columns },
  )
}

/** The certificates as a table (`cert list --csv`), bound devices by device ID. */
export function certificatesCsv(certificates: readonly CertificateView[]): string {
  return csvStringify.stringify(
    certificates.map((certificate) => ({
      id: certificate.id,
      name: certificate.name,
      cn: certificate.cn,
      status: certificate.status,
      enabled: certificate.enabled,
      key_type: certificate.keyType,
      profile: certificate.profile,
      serial: certificate.serial,
      fingerprint_sha256: certificate.fingerprint256,
      not_before: certificate.notBefore,
      not_after: certificate.notAfter,
      devices: certificate.boundDeviceIds.join(';'),
    })),
    {
      header: true,
      columns: [
        'id',
        'name',
        'cn',
        'status',
        'enabled',
        'key_type',
        'profile',
        'serial',
        'fingerprint_sha256',
        'not_before',
        'not_after',
        'devices',
      ],
      cast: { boolean: (value) => (value ? 'true' : 'false') },
    },
  )
}
