import type { ConnectionLogEntry } from '../core/broker/connectionLog'
import type { QuickTestResult } from '../core/tester/quickTest'
import type { CertificateView, DeviceView, RootCaView } from '../core/workspace'

/** Columns padded to their widest cell; plain text so it pipes into grep and awk. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)))
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

function formatFields(fields: [string, string][]): string {
  const width = Math.max(...fields.map(([label]) => label.length))
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${value}`).join('\n')
}

const day = (iso: string) => iso.slice(0, 10)

export function describeRootCa(ca: RootCaView): string {
  return formatFields([
    ['Subject', ca.subject.replace(/\n/g, ', ')],
    ['Key type', ca.keyType],
    ['Serial', ca.serial],
    ['SHA-256', ca.fingerprint256],
    ['Valid from', ca.notBefore],
    ['Valid until', ca.notAfter],
    [
      'Key protection',
      ca.keyProtection === 'passphrase'
        ? 'passphrase (scrypt; every command that uses a private key needs --passphrase-env)'
        : 'key file vault.key, readable by its owner only (no passphrase set)',
    ],
    ['Data folder', ca.dataDir],
  ])
}

export function describeCertificate(certificate: CertificateView): string {
  return formatFields([
    ['Id', certificate.id],
    ['Name', certificate.name],
    ['Common name', certificate.cn],
    ['Availability', certificate.enabled ? 'enabled' : 'disabled'],
    ['Key type', certificate.keyType],
    ['Serial', certificate.serial],
    ['SHA-256', certificate.fingerprint256],
    ['Valid from', certificate.notBefore],
    ['Valid until', certificate.notAfter],
    ['Bound devices', certificate.boundDevices.join(', ') || '(none)'],
  ])
}

export function describeDevice(device: DeviceView): string {
  return formatFields([
    ['Id', device.id],
    ['Name', device.name],
    ['Device ID', `${device.deviceId}  (MQTT client_id)`],
    ['Username', device.username],
    ['Device key', `${device.deviceKey}  (MQTT password, one-way TLS)`],
    ['Authentication', device.authType === 'cert' ? 'cert (mutual TLS)' : 'token (one-way TLS)'],
    ['Certificates', device.certificates.join(', ') || '(none)'],
  ])
}

export function certificateTable(certificates: CertificateView[]): string {
  if (certificates.length === 0) return 'No certificates yet. Create one with "certdesk cert create --name NAME".'
  return formatTable(
    ['ID', 'NAME', 'COMMON NAME', 'ENABLED', 'DEVICES', 'EXPIRES'],
    certificates.map((c) => [c.id, c.name, c.cn, c.enabled ? 'yes' : 'no', String(c.boundDevices.length), day(c.notAfter)]),
  )
}

export function deviceTable(devices: DeviceView[]): string {
  if (devices.length === 0) return 'No devices yet. Create one with "certdesk device create --name NAME --auth token|cert".'
  return formatTable(
    ['ID', 'NAME', 'DEVICE ID', 'USERNAME', 'AUTH', 'CERTIFICATES'],
    devices.map((d) => [d.id, d.name, d.deviceId, d.username, d.authType, String(d.certificates.length)]),
  )
}

export function connectionLogTable(entries: ConnectionLogEntry[]): string {
  if (entries.length === 0) return 'No connection attempts yet.'
  return formatTable(
    ['TIME', 'LISTENER', 'CLIENT ID', 'USERNAME', 'RESULT', 'REASON'],
    entries.map((e) => [e.time, e.listener, e.clientId || '-', e.username ?? '-', e.result, e.reason ?? '']),
  )
}

export function describeQuickTest(result: QuickTestResult): string {
  const where = `${result.clientId} at ${result.host}:${result.port}`
  if (result.pass) {
    return `PASS  ${where}: connected in ${result.connectMs} ms, /hello came back in ${result.roundTripMs} ms (${result.totalMs} ms in all).`
  }
  const diagnosis = result.diagnosis
  const lines = [`FAIL  ${where}: ${diagnosis?.summary ?? 'the test failed.'}`]
  if (diagnosis?.brokerReason) lines.push(`Broker says: ${diagnosis.brokerReason}`)
  if (diagnosis?.nextStep) lines.push(`Next step: ${diagnosis.nextStep}`)
  for (const certificate of diagnosis?.serverChain ?? []) {
    lines.push(`Server certificate: ${certificate.subject} (issuer ${certificate.issuer}; names ${certificate.names.join(', ') || '-'}; valid ${certificate.validFrom.slice(0, 10)} to ${certificate.validTo.slice(0, 10)})`)
  }
  return lines.join('\n')
}
