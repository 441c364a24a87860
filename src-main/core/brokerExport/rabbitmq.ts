// The export for RabbitMQ (3.10 and later, MQTT plugin), a clustered engine: definitions to import
// (users with RabbitMQ's own salted SHA-256 hashes, a vhost, permissions, topic permissions),
// rabbitmq.conf for the MQTT TLS listeners, advanced.config for the TLS options and the CRL check,
// and the CRL under the name Erlang's ssl_crl_hash_dir looks for.
import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import { type BoundTopicRule, bindTopicRules, compileTopicRules } from '../broker/topicRules'
import { saltedCredential } from './credentials'
import type { ExportedUsers } from './changes'
import { inExportOrder, sharedTokenUsernames } from './types'
import type { BrokerExportFile, BrokerExportInput, ExportedCertificate } from './types'

const RABBITMQ_DEFAULT_INSTALL_DIR = '/etc/rabbitmq/certdesk'
/** The vhost the devices live in (`mqtt.vhost`). */
const RABBITMQ_VHOST = 'certdesk'
/** The MQTT plugin publishes to this topic exchange; topic permissions are checked on it. */
const MQTT_EXCHANGE = 'amq.topic'
const HASHING_ALGORITHM = 'rabbit_password_hashing_sha256'

/**
 * RabbitMQ's rabbit_password_hashing_sha256 as the internal backend stores it:
 * base64(salt ++ sha256(salt ++ utf8(password))) with a 4-byte salt.
 */
export function rabbitmqPasswordHash(password: string, salt: Buffer): string {
  if (salt.length !== 4) throw new Error('RabbitMQ password salts are 4 bytes')
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest()
  return Buffer.concat([salt, digest]).toString('base64')
}

/** The 4-byte salt at the start of a stored hash; undefined when it is no sha256 hash (36 bytes). */
function saltOfPasswordHash(stored: string): Buffer | undefined {
  const bytes = Buffer.from(stored, 'base64')
  return bytes.length === 36 ? bytes.subarray(0, 4) : undefined
}

/** The users of an export's definitions.json: token devices with their hashes, certificates' common names without. */
export function rabbitmqUsers(fileText: (path: string) => string | undefined): ExportedUsers {
  const text = fileText('definitions.json')
  const users: ExportedUsers = { tokens: new Map(), certificates: new Set() }
  if (text === undefined) return users
  const document = JSON.parse(text) as { users?: unknown } | null
  if (!Array.isArray(document?.users)) throw new Error('it has no list of users')
  for (const user of document.users as ({ name?: unknown; password_hash?: unknown } | null)[]) {
    if (typeof user?.name !== 'string') continue
    if (typeof user.password_hash === 'string' && user.password_hash !== '') users.tokens.set(user.name, user.password_hash)
    else users.certificates.add(user.name)
  }
  return users
}

// ---- The CRL's file name: OpenSSL's X509_NAME_hash of its issuer (what `openssl x509 -hash` prints).

interface Tlv {
  tag: number
  /** Where the value starts and ends in the buffer. */
  start: number
  end: number
  /** Where the whole element starts (tag included). */
  from: number
}

function readTlv(der: Buffer, offset: number): Tlv {
  const tag = der[offset]
  let length = der[offset + 1]
  let start = offset + 2
  if (length & 0x80) {
    const count = length & 0x7f
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]
    start += count
  }
  if (tag === undefined || start + length > der.length) throw new Error('malformed DER')
  return { tag, start, end: start + length, from: offset }
}

function childrenOf(der: Buffer, parent: Tlv): Tlv[] {
  const children: Tlv[] = []
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readTlv(der, offset)
    children.push(child)
    offset = child.end
  }
  return children
}

function encodeTlv(tag: number, value: Buffer): Buffer {
  const length = value.length
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), value])
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), value])
}

/** The string types OpenSSL canonicalises (ASN1_MASK_CANON), with how to read their bytes. */
const CANONICAL_STRINGS: Record<number, (bytes: Buffer) => string> = {
  0x0c: (bytes) => bytes.toString('utf8'),
  0x13: (bytes) => bytes.toString('latin1'),
  0x14: (bytes) => bytes.toString('latin1'),
  0x16: (bytes) => bytes.toString('latin1'),
  0x1a: (bytes) => bytes.toString('latin1'),
  0x1e: (bytes) => Buffer.from(bytes).swap16().toString('utf16le'),
  0x1c: (bytes) => String.fromCodePoint(...Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32BE(i * 4))),
}

/** A value as OpenSSL's x509_name_canon has it: UTF8String, trimmed, inner spaces collapsed, ASCII lower case. */
function canonicalValue(der: Buffer, value: Tlv): Buffer {
  const read = CANONICAL_STRINGS[value.tag]
  if (!read) return der.subarray(value.from, value.end)
  const text = read(der.subarray(value.start, value.end))
    .replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '')
    .replace(/[ \t\n\v\f\r]+/g, ' ')
    .replace(/[A-Z]/g, (letter) => letter.toLowerCase())
  return encodeTlv(0x0c, Buffer.from(text, 'utf8'))
}

/** OpenSSL's X509_NAME_hash (SHA-1 of the canonical RDNs, first 4 bytes little-endian), as 8 hex digits. */
function nameHash(der: Buffer, name: Tlv): string {
  const sets = childrenOf(der, name).map((set) => {
    const entries = childrenOf(der, set).map((attribute) => {
      const [type, value] = childrenOf(der, attribute)
      return encodeTlv(0x30, Buffer.concat([der.subarray(type.from, type.end), canonicalValue(der, value)]))
    })
    return encodeTlv(0x31, Buffer.concat(entries.sort(Buffer.compare)))
  })
  const digest = createHash('sha1').update(Buffer.concat(sets)).digest()
  return digest.readUInt32LE(0).toString(16).padStart(8, '0')
}

/** The hash of a CRL's issuer: the CRL is found as `<hash>.r0` in a hash directory. */
export function crlIssuerHash(crlDer: Buffer): string {
  const list = readTlv(crlDer, 0)
  const [tbs] = childrenOf(crlDer, list)
  const fields = childrenOf(crlDer, tbs)
  // TBSCertList: version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name, …
  const issuer = fields[fields[0].tag === 0x02 ? 2 : 1]
  return nameHash(crlDer, issuer)
}

// ---- Topic rules as RabbitMQ topic permissions (regular expressions on amq.topic routing keys).

/** A literal for an Erlang (PCRE) regular expression; braces as \x7b/\x7d so RabbitMQ's {username} expansion never sees one. */
function regexLiteral(text: string): string {
  return text
    .replace(/[\\^$.|?*+()[\]]/g, '\\$&')
    .replace(/\{/g, '\\x7b')
    .replace(/\}/g, '\\x7d')
}

/**
 * A filled-in MQTT filter as a pattern on routing keys: the MQTT plugin turns `/` into `.` and `+`
 * into `*`. `+` matches one level that holds no `#` (so `a/+` does not cover a subscription to
 * `a/#`); a final `#` matches the parent level and anything below it.
 */
function filterPattern(levels: readonly string[]): string {
  const last = levels.length - 1
  if (levels[last] === '#') {
    if (last === 0) return '.*'
    return `${filterPattern(levels.slice(0, last))}(?:\\..*)?`
  }
  return levels.map((level) => (level === '+' ? '[^.#]*' : regexLiteral(level))).join('\\.')
}

/**
 * A level RabbitMQ would read otherwise than MQTT does: its routing keys separate levels with `.`
 * and take `*` as a wildcard, so a filled-in username `a.b` or `*` would reach other devices' topics.
 */
const UNEXPRESSIBLE_LEVEL = (level: string) => level !== '+' && level !== '#' && /[.*]/.test(level)

/**
 * A bound rule as RabbitMQ can take it: one with a level it would misread is left out if it
 * allows, and denies everything if it denies (fails closed, as Certdesk does with unsafe values).
 */
function forRabbitmq(rule: BoundTopicRule): BoundTopicRule {
  if (rule.levels === undefined || !rule.levels.some(UNEXPRESSIBLE_LEVEL)) return rule
  return { ...rule, levels: rule.permission === 'deny' ? ['#'] : undefined }
}

/** The regex RabbitMQ needs for one access: an allowing rule matches unless an earlier denying rule did. */
function accessRegex(rules: readonly BoundTopicRule[], access: 'publish' | 'subscribe'): string {
  const denied: string[] = []
  const allowed: string[] = []
  for (const rule of rules.map(forRabbitmq)) {
    if (rule.levels === undefined || (rule.action !== 'all' && rule.action !== access)) continue
    const pattern = filterPattern(rule.levels)
    if (rule.permission === 'deny') denied.push(pattern)
    else allowed.push(denied.map((deny) => `(?!(?:${deny})$)`).join('') + `(?:${pattern})$`)
  }
  // Nothing allowed: a pattern no routing key matches (an empty one would mean `^$` to RabbitMQ).
  return allowed.length === 0 ? '^(?!)' : `^(?:${allowed.join('|')})`
}

/**
 * Topic permissions for one device: Certdesk's ${clientid} and ${username} are filled in at export
 * with the device's own ID and username (Certdesk makes the connection's client ID and username
 * those), so the rules follow the device whatever client ID it sends.
 */
function topicPermission(input: BrokerExportInput, user: string, device: { deviceId: string; username: string }) {
  const bound = bindTopicRules(compileTopicRules(input.topicRules), { clientId: device.deviceId, username: device.username })
  return {
    user,
    vhost: RABBITMQ_VHOST,
    exchange: MQTT_EXCHANGE,
    write: accessRegex(bound, 'publish'),
    read: accessRegex(bound, 'subscribe'),
  }
}

/** Queue and exchange permissions: the device's own MQTT subscription queues and amq.topic. */
function resourcePermission(user: string, deviceId: string) {
  const queues = `mqtt-subscription-${regexLiteral(deviceId)}qos[0-9]`
  return {
    user,
    vhost: RABBITMQ_VHOST,
    configure: `^${queues}$`,
    write: `^(?:${regexLiteral(MQTT_EXCHANGE)}|${queues})$`,
    read: `^(?:${regexLiteral(MQTT_EXCHANGE)}|${queues})$`,
  }
}

/** Whether a bound certificate gets a RabbitMQ user: active and enabled (expiry is TLS's to refuse). */
function admitted(certificate: ExportedCertificate): boolean {
  return certificate.status === 'active' && certificate.enabled
}

interface CertificateUser {
  cn: string
  device: { deviceId: string; username: string }
}

interface CertificateUsers {
  users: CertificateUser[]
  /** Common names of revoked or disabled certificates: no user may have them. */
  refused: string[]
  /** Common names that are a token device's username: such a certificate would log in as that device. */
  clashes: string[]
}

function certificateUsers(input: BrokerExportInput): CertificateUsers {
  const tokenUsernames = new Set(input.tokenDevices.map((device) => device.username))
  const users = new Map<string, CertificateUser>()
  const refused = new Set<string>()
  const clashes = new Set<string>()
  for (const device of input.certificateDevices) {
    for (const certificate of device.certificates) {
      if (tokenUsernames.has(certificate.cn)) clashes.add(certificate.cn)
      else if (!admitted(certificate)) refused.add(certificate.cn)
      else if (!users.has(certificate.cn)) users.set(certificate.cn, { cn: certificate.cn, device })
    }
  }
  // A common name that an admitted certificate also has keeps its user: list only true leftovers.
  return { users: [...users.values()], refused: [...refused].filter((cn) => !users.has(cn)).sort(), clashes: [...clashes].sort() }
}

function definitions(input: BrokerExportInput, certUsers: CertificateUser[]): string {
  const tokenUsers = input.tokenDevices.map((device) => ({
    name: device.username,
    password_hash: saltedCredential(input, device.username, 4, (salt) => rabbitmqPasswordHash(device.deviceKey, salt), saltOfPasswordHash),
    hashing_algorithm: HASHING_ALGORITHM,
    tags: [] as string[],
  }))
  const users = [
    ...tokenUsers,
    ...certUsers.map(({ cn }) => ({ name: cn, password_hash: '', hashing_algorithm: HASHING_ALGORITHM, tags: [] as string[] })),
  ]
  const owners = [
    ...input.tokenDevices.map((device) => ({ user: device.username, device })),
    ...certUsers.map(({ cn, device }) => ({ user: cn, device })),
  ]
  const document = {
    users,
    vhosts: [{ name: RABBITMQ_VHOST }],
    permissions: owners.map(({ user, device }) => resourcePermission(user, device.deviceId)),
    topic_permissions: owners.map(({ user, device }) => topicPermission(input, user, device)),
    parameters: [],
    global_parameters: [],
    policies: [],
    queues: [],
    exchanges: [],
    bindings: [],
  }
  return `${JSON.stringify(document, null, 2)}\n`
}

function rabbitmqConf(input: BrokerExportInput): string {
  return [
    '# Certdesk: the MQTT side of RabbitMQ for this fleet. Merge into /etc/rabbitmq/rabbitmq.conf on',
    '# every node (see README.md). The TLS options are in advanced.config: RabbitMQ takes the whole',
    '# ssl_options list from there when advanced.config sets it, so they cannot be split between files.',
    '',
    '# No plain MQTT: devices connect over TLS only.',
    'mqtt.listeners.tcp = none',
    '# One-way TLS (token devices) and mutual TLS (certificate devices). RabbitMQ shares one set of',
    '# TLS options between its TLS listeners, so both ask for a client certificate and neither',
    '# requires one: a client with a certificate chained to the CA logs in as its common name, one',
    '# without logs in with username and device key.',
    `mqtt.listeners.ssl.one_way = ${input.ports.oneWay}`,
    `mqtt.listeners.ssl.mutual = ${input.ports.mutual}`,
    `mqtt.vhost = ${RABBITMQ_VHOST}`,
    `mqtt.exchange = ${MQTT_EXCHANGE}`,
    'mqtt.allow_anonymous = false',
    'mqtt.ssl_cert_login = true',
    'ssl_cert_login_from = common_name',
    '',
  ].join('\n')
}

/** Erlang terms: a string literal. */
function erlangString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

function advancedConfig(installDir: string, ports: BrokerExportInput['ports']): string {
  const file = (...parts: string[]) => erlangString(posix.join(installDir, ...parts))
  return [
    `%% Certdesk: the TLS options of every RabbitMQ TLS listener (MQTT ${ports.oneWay} and ${ports.mutual} share them).`,
    "%% crl_check = peer: the client certificate is checked against the CA's CRL, which Erlang finds",
    '%% in the crl directory by the hash of its issuer (<hash>.r0).',
    '[',
    '  {rabbit, [',
    '    {ssl_options, [',
    `      {cacertfile, ${file('certs/ca.crt')}},`,
    `      {certfile, ${file('certs/server.crt')}},`,
    `      {keyfile, ${file('certs/server.key')}},`,
    '      {verify, verify_peer},',
    '      {fail_if_no_peer_cert, false},',
    '      {crl_check, peer},',
    `      {crl_cache, {ssl_crl_hash_dir, {internal, [{dir, ${file('crl')}}]}}}`,
    '    ]}',
    '  ]}',
    '].',
    '',
  ].join('\n')
}

const RULE_TABLE: [string, string][] = [
  [
    "1. One-way TLS on 8883, the device checks the broker's certificate",
    'As Certdesk: `mqtt.listeners.ssl.one_way` serves `certs/server.crt`, issued by the CA for the host names of the export.',
  ],
  [
    '2. One-way: username and device key (password) of a token device',
    "As Certdesk: each token device is a RabbitMQ user named by its username, with RabbitMQ's salted SHA-256 hash of its device key (the key itself is not in the export).",
  ],
  [
    "3. One-way: client ID must be the token device's device ID",
    'Not at all: RabbitMQ does not tie the client ID to the user. Its permissions are written for the device ID (its topic rules, and subscription queues named `mqtt-subscription-<device ID>qos…`), so another client ID cannot subscribe and gains no topic.',
  ],
  [
    '4. Mutual TLS on 8884: a client certificate chained to the CA is required',
    "Approximately: a certificate, when sent, must chain to the CA (`verify_peer`), on both ports. None is required (`fail_if_no_peer_cert = false`), because RabbitMQ's TLS options are shared by every TLS listener and 8883 must take token devices, which send none.",
  ],
  [
    '5. Revoked certificates are refused (CRL)',
    'As Certdesk at connection time: `crl_check = peer` with `crl/<issuer hash>.r0`, read at every handshake, so a new CRL copied over it on every node takes effect without a restart. Replace it before its nextUpdate: a stale CRL refuses every certificate.',
  ],
  [
    '6. Disabled certificates (availability switch off) are refused',
    'Approximately: a disabled (or revoked) certificate\'s common name gets no user, so its login fails once the definitions are imported and the leftover user is deleted (see "After a re-export").',
  ],
  ['7. Expired or not-yet-valid certificates are refused', "As Certdesk: Erlang's TLS path validation refuses them."],
  [
    "8. The certificate must be bound to the certificate device whose device ID is the client ID, with that device's username",
    "Approximately: a certificate logs in as the user named by its common name: one is made for each active, enabled certificate bound to a certificate device (a common name on several devices' certificates gets the first device's topics, by device ID). Any other certificate of this CA whose common name is a token device's username would log in as that token device without its key: Certdesk's default common names are random and never are; a profile that takes the certificate's name or a device ID as its common name must not produce one. RabbitMQ does not compare the client ID or the MQTT username with the device; and RabbitMQ refuses a CONNECT with a username but no password, so on RabbitMQ a certificate device must send no username (the seed's two-way example sends one).",
  ],
  [
    '9. Token devices cannot use 8884, certificate devices cannot use 8883',
    'Not at all: both ports accept a username and password, and a client certificate, alike.',
  ],
  [
    '10. Topic rules: ordered, first match wins, ${clientid}/${username}, default deny',
    "Approximately: each device's rules are one regular expression per access on `amq.topic` routing keys (`/` becomes `.`, `+` becomes `*`), ordered with look-aheads so the first match wins and no match denies; ${clientid} and ${username} are filled in with the device's own ID and username at export. A subscription is checked once, against its filter, so a denying rule that only overlaps an allowed filter does not stop delivery. A level holding `.` or `*` (a literal in a rule, or a username such as `a.b` filled in) is read by RabbitMQ as a separator or a wildcard: a rule allowing such a level is left out, and one denying it denies every topic, as Certdesk fails closed.",
  ],
  [
    '11. A revocation or unbinding drops a connected device at once',
    'Not at all: the CRL and the users are checked when a device connects, and RabbitMQ 3.10 keeps an MQTT connection open through `close_all_user_connections`, `close_connection` and `delete_user` (`list_mqtt_connections` shows it): it ends when the device disconnects or its node restarts.',
  ],
  [
    '12. Limits: largest packet, connections, connection rate per address',
    'Not at all: this export sets none (RabbitMQ 3.10 has no MQTT packet-size limit and no per-address rate limit; set connection limits with `rabbitmqctl set_vhost_limits` and rates in a firewall).',
  ],
]

function readme(
  input: BrokerExportInput,
  installDir: string,
  crlName: string,
  { users: certUsers, refused, clashes }: CertificateUsers,
  leftOut: readonly { deviceId: string; username: string }[],
): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|')
  const lines = [
    '# Certdesk fleet for RabbitMQ (MQTT plugin)',
    '',
    'For RabbitMQ 3.10 or later with the `rabbitmq_mqtt` plugin, alone or in a cluster.',
    '',
    '## Files',
    '',
    '- `definitions.json`: the `certdesk` vhost; a user per token device (username, salted SHA-256 hash of its device key) and per',
    "  active, enabled certificate bound to a certificate device (named by the certificate's common name, no password); their",
    '  permissions and topic permissions. Secret: keep it 0600.',
    "- `rabbitmq.conf`: the MQTT TLS listeners and login settings, to merge into the node's `rabbitmq.conf`.",
    '- `advanced.config`: the TLS options (CA, server certificate and key, client certificate check, CRL check).',
    `- \`certs/\`: the CA (\`ca.crt\`), the broker's certificate and key, and the CRL (\`crl.pem\`); \`crl/${crlName}\`: the same CRL named as Erlang looks it up.`,
    '- `certdesk-export.json`: what this export was made with (certificate names, install folder, ports), kept by a later `--only-changes-since`.',
    '',
    '## Apply',
    '',
    `1. On **every node**, copy this folder to \`${installDir}\` (the configuration names files there), readable by the`,
    '   `rabbitmq` user, the key and definitions 0600.',
    '2. On every node, merge `rabbitmq.conf` into `/etc/rabbitmq/rabbitmq.conf` and `advanced.config` into',
    '   `/etc/rabbitmq/advanced.config` (if that file already sets `rabbit` `ssl_options`, replace them: they are one list).',
    '   Give each node its own ports if several run on one machine.',
    '3. On every node: `rabbitmq-plugins enable rabbitmq_mqtt`, then restart the node.',
    `4. On **one** node: \`rabbitmqctl import_definitions ${posix.join(installDir, 'definitions.json')}\`. Definitions are`,
    '   cluster-wide: users, the vhost and permissions reach every node. The certificates, the CRL and the configuration do not:',
    '   they must be on every node.',
    '',
    `Devices connect as they did to Certdesk: token devices on ${input.ports.oneWay} with client ID, username and device key;`,
    `certificate devices on ${input.ports.mutual} with their bundle, but **without a username** (RabbitMQ refuses a username`,
    "without a password; with none, it logs the device in as its certificate's common name).",
    '',
    '## After a re-export',
    '',
    'Importing definitions adds and updates; it never deletes. Replace the CRL files on every node (new handshakes use',
    'them), import the definitions again, then delete the users that are gone: those of deleted token devices, and those of',
    'certificates that are revoked, disabled or unbound.',
    '',
  ]
  if (leftOut.length > 0) {
    lines.push(
      `**Left out**: these token devices share a username with another token device, and a RabbitMQ user is one name; give each its own username in Certdesk and export again: ${leftOut.map((device) => `\`${device.deviceId}\` (\`${device.username}\`)`).join(', ')}.`,
      '',
    )
  }
  if (clashes.length > 0) {
    lines.push(
      `**Warning**: these certificates' common names are token devices' usernames, so a certificate login would be that token device; they have no user of their own. Reissue them: ${clashes.map((cn) => `\`${cn}\``).join(', ')}.`,
      '',
    )
  }
  if (refused.length > 0) {
    lines.push('Certificates of this fleet that must have no user (revoked or disabled):', '', '```sh')
    for (const cn of refused) lines.push(`rabbitmqctl delete_user '${cn.replace(/'/g, `'\\''`)}'`)
    lines.push('```', '')
  }
  lines.push(
    `Users in this export: ${input.tokenDevices.length} token device(s), ${certUsers.length} certificate(s).`,
    '',
    "## Certdesk's rules on RabbitMQ",
    '',
    '| Certdesk rule | On RabbitMQ |',
    '| --- | --- |',
    ...RULE_TABLE.map(([rule, how]) => `| ${cell(rule)} | ${cell(how)} |`),
    '',
  )
  return lines.join('\n')
}

export function rabbitmqExport(given: BrokerExportInput): BrokerExportFile[] {
  // Token devices sharing a username are left out (a RabbitMQ user is one name) and listed.
  const ordered = inExportOrder(given)
  const shared = sharedTokenUsernames(ordered)
  const input = { ...ordered, tokenDevices: ordered.tokenDevices.filter((device) => !shared.has(device.username)) }
  const leftOut = ordered.tokenDevices.filter((device) => shared.has(device.username))
  const installDir = input.installDir ?? RABBITMQ_DEFAULT_INSTALL_DIR
  const crlName = `${crlIssuerHash(input.crl.der)}.r0`
  const certificates = certificateUsers(input)
  return [
    { path: `crl/${crlName}`, contents: input.crl.pem, secret: false },
    { path: 'definitions.json', contents: definitions(input, certificates.users), secret: true },
    { path: 'rabbitmq.conf', contents: rabbitmqConf(input), secret: false },
    { path: 'advanced.config', contents: advancedConfig(installDir, input.ports), secret: false },
    { path: 'README.md', contents: readme(input, installDir, crlName, certificates, leftOut), secret: false },
  ]
}
