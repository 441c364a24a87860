import type { ProfileView } from '../core/registry/profiles'
import type { ConnectionLogEntry } from '../core/broker/connectionLog'
import type { TopicRule } from '../core/broker/topicRules'
import type { AuditEntry } from '../core/store/schema'
import type { QuickTestResult } from '../core/tester/quickTest'
import type { CertificateView, DeviceView, RootCaView } from '../core/workspace'

/**
 * Control characters (C0 but newline and tab, DEL, C1) and bidirectional overrides made visible
 * as \xNN / \u{NNNN}: text from devices and other people never drives the operator's terminal.
 */
export function escapeControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (character) => {
    const code = character.codePointAt(0) as number
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`
  })
}

/** Columns padded to their widest cell; plain text so it pipes into grep and awk. */
function formatTable(headers: string[], unescapedRows: string[][]): string {
  // Escaped before measuring, so a hostile cell cannot break the columns either.
  const rows = unescapedRows.map((row) => row.map((cell) => escapeControlCharacters(cell).replace(/\n/g, '\\n')))
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd()
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
    ['Origin', ca.origin === 'imported' ? 'imported (ca import)' : 'generated here (ca init)'],
    [
      'Key protection',
      {
        passphrase: 'passphrase (scrypt; every command that uses a private key needs --passphrase-env)',
        keyfile: 'key file vault.key, readable by its owner only (no passphrase set)',
        'os-keychain': "the desktop app's OS keychain (private keys are usable in the app; set a passphrase there to use them here)",
      }[ca.keyProtection],
    ],
    ['CRL URL', ca.crlDistributionPoint ?? '(none)'],
    ['Data folder', ca.dataDir],
  ])
}

export function describeCertificate(certificate: CertificateView): string {
  return formatFields([
    ['Id', certificate.id],
    ['Name', certificate.name],
    ['Common name', certificate.cn],
    ['Availability', certificate.enabled ? 'enabled' : 'disabled'],
    ...(certificate.status === 'revoked'
      ? [['Status', `revoked on ${certificate.revokedAt ?? '?'} (${certificate.revocationReason ?? 'unspecified'})`] as [string, string]]
      : []),
    ['Key type', certificate.hasPrivateKey ? certificate.keyType : `${certificate.keyType} (the device's own key; not held by Certdesk)`],
    ['Profile', certificate.profile],
    ...(certificate.renewedFrom ? [['Renews', certificate.renewedFrom] as [string, string]] : []),
    ['Serial', certificate.serial],
    ['SHA-256', certificate.fingerprint256],
    ['Valid from', certificate.notBefore],
    ['Valid until', certificate.notAfter],
    ['Bound devices', certificate.boundDeviceIds.join(', ') || '(none)'],
  ])
}

/** `deviceKey` when the vault could be opened to reveal it (it is sealed at rest). */
export function describeDevice(device: DeviceView & { deviceKey?: string }, deviceKey = device.deviceKey): string {
  return formatFields([
    ['Id', device.id],
    ['Name', device.name],
    ['Device ID', `${device.deviceId}  (MQTT client_id)`],
    ['Username', device.username],
    ['Device key', deviceKey === undefined ? '(sealed: give --passphrase-env to see it)' : `${deviceKey}  (MQTT password, one-way TLS)`],
    ['Authentication', device.authType === 'cert' ? 'cert (mutual TLS)' : 'token (one-way TLS)'],
    ['Certificates', device.certificateIds.join(', ') || '(none)'],
  ])
}

export function certificateTable(certificates: CertificateView[]): string {
  if (certificates.length === 0) return 'No certificates yet. Create one with "certdesk cert create --name NAME".'
  return formatTable(
    ['ID', 'NAME', 'COMMON NAME', 'ENABLED', 'DEVICES', 'EXPIRES'],
    certificates.map((c) => [c.id, c.name, c.cn, c.enabled ? 'yes' : 'no', String(c.boundDeviceIds.length), day(c.notAfter)]),
  )
}

export function deviceTable(devices: DeviceView[]): string {
  if (devices.length === 0) return 'No devices yet. Create one with "certdesk device create --name NAME --auth token|cert".'
  return formatTable(
    ['ID', 'NAME', 'DEVICE ID', 'USERNAME', 'AUTH', 'CERTIFICATES'],
    devices.map((d) => [d.id, d.name, d.deviceId, d.username, d.authType, String(d.certificateIds.length)]),
  )
}

export function connectionLogTable(entries: ConnectionLogEntry[]): string {
  if (entries.length === 0) return 'No connection attempts yet.'
  return formatTable(
    ['TIME', 'LISTENER', 'CLIENT ID', 'USERNAME', 'RESULT', 'REASON'],
    entries.map((e) => [e.time, e.listener, e.clientId || '-', e.username ?? '-', e.result, e.reason ?? '']),
  )
}

export function topicRulesTable(rules: readonly TopicRule[]): string {
  if (rules.length === 0) return 'No topic rules: every publish and subscription is denied.'
  return formatTable(
    ['#', 'ACTION', 'TOPIC', 'PERMISSION'],
    rules.map((rule, index) => [String(index + 1), rule.action, rule.topic, rule.permission]),
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
    lines.push(
      `Server certificate: ${certificate.subject} (issuer ${certificate.issuer}; names ${certificate.names.join(', ') || '-'}; valid ${certificate.validFrom.slice(0, 10)} to ${certificate.validTo.slice(0, 10)})`,
    )
  }
  return lines.join('\n')
}

export function auditTable(entries: AuditEntry[]): string {
  if (entries.length === 0) return 'No changes recorded yet.'
  return formatTable(
    ['#', 'Time', 'Who', 'User', 'Action', 'Target'],
    entries.map((entry) => [String(entry.seq), entry.time, entry.actor, entry.user, entry.action, entry.target]),
  )
}

export function profileTable(profiles: ProfileView[]): string {
  return formatTable(
    ['NAME', 'KEY TYPE', 'DAYS', 'COMMON NAME', 'SUBJECT', 'DESCRIPTION'],
    profiles.map((p) => [
      p.builtIn ? `${p.name} (built in)` : p.name,
      p.keyType ?? "root CA's",
      String(p.days),
      p.commonName,
      profileSubject(p),
      p.description,
    ]),
  )
}

function profileSubject(profile: ProfileView): string {
  const parts = [profile.country && `C=${profile.country}`, profile.organization && `O=${profile.organization}`]
  if (profile.organizationalUnit) parts.push(`OU=${profile.organizationalUnit}`)
  return parts.filter(Boolean).join(', ') || '-'
}

export function describeProfile(profile: ProfileView): string {
  return formatFields([
    ['Name', profile.builtIn ? `${profile.name} (built in, cannot be changed)` : profile.name],
    ['Description', profile.description || '-'],
    ['Key type', profile.keyType ?? "the root CA's"],
    ['Validity', `${profile.days} days`],
    ['Common name', profile.commonName],
    ['Subject', profileSubject(profile)],
    ['Alternative names', profile.subjectAltNames.join(', ') || '(none)'],
    ['Key usage', profile.keyUsage.join(', ')],
    ['Extended key usage', profile.extendedKeyUsage.join(', ')],
  ])
}
