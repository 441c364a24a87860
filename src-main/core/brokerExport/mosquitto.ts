// The export for Eclipse mosquitto 2.0 (issue 13): mosquitto.conf with the one-way and the mutual
// listener, the token devices' password file in mosquitto's own PBKDF2-SHA512 format, an ACL file
// per listener with each device's topic rules filled in, and a README saying what differs.
import { pbkdf2Sync } from 'node:crypto'
import { type BoundTopicRule, bindTopicRules, compileTopicRules } from '../broker/topicRules'
import type { TopicRule } from '../store/schema'
import { saltedCredential } from './credentials'
import type { ExportedUsers } from './changes'
import type { BrokerExportFile, BrokerExportInput, ExportedCertificate } from './types'

const DEFAULT_INSTALL_DIR = '/etc/mosquitto/certdesk'

/*
 * mosquitto 2.0's password_file line (src/password_mosq.c, apps/mosquitto_passwd/mosquitto_passwd.c):
 * `username:$7$ITERATIONS$SALT$HASH`, where 7 is PBKDF2-HMAC-SHA512 over the password's bytes, the
 * salt is 12 random bytes and the hash 64 bytes, both in base64 with padding. mosquitto_passwd
 * uses 101 iterations; the broker drops a line whose salt is not 12 bytes or hash not 64.
 */
const PASSWORD_ITERATIONS = 101
const SALT_BYTES = 12
const HASH_BYTES = 64

function passwordHash(password: string, salt: Buffer): string {
  const hash = pbkdf2Sync(password, salt, PASSWORD_ITERATIONS, HASH_BYTES, 'sha512')
  return `$7$${PASSWORD_ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`
}

/** The salt of a `$7$101$SALT$HASH` line this export writes; undefined for any other form. */
function saltOfPasswordHash(stored: string): Buffer | undefined {
  const [empty, kind, iterations, salt] = stored.split('$')
  if (empty !== '' || kind !== '7' || iterations !== String(PASSWORD_ITERATIONS) || salt === undefined) return undefined
  return Buffer.from(salt, 'base64')
}

/**
 * The users an export's files name: token devices from `passwords` (with their hashes), and the
 * certificates' common names that `acl-mutual` grants.
 */
export function mosquittoUsers(fileText: (path: string) => string | undefined): ExportedUsers {
  const users: ExportedUsers = { tokens: new Map(), certificates: new Set() }
  // A folder that went through Windows may have CRLF line ends: the same users all the same.
  for (const line of (fileText('passwords') ?? '').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) users.tokens.set(line.slice(0, colon), line.slice(colon + 1))
  }
  for (const line of (fileText('acl-mutual') ?? '').split(/\r?\n/)) {
    if (line.startsWith('user ')) users.certificates.add(line.slice('user '.length))
  }
  return users
}

/** Locale-free order, so the same registry always gives the same bytes. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** What mosquitto's file parsers trim from a line's ends (C isspace), or what would end the line. */
const EDGE_SPACE = /^[ \t\n\v\f\r]|[ \t\n\v\f\r]$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** Whether `text` survives as the rest of an acl_file line (`user X`, `topic deny X`) unchanged. */
const aclWritable = (text: string) => text.length > 0 && !EDGE_SPACE.test(text) && !CONTROL.test(text)

/** Text for a comment line: quoted, with anything that could end the line escaped. */
const quoted = (text: string) => JSON.stringify(text)

const ACCESS: Record<TopicRule['action'], string> = { publish: 'write', subscribe: 'read', all: 'readwrite' }
const DIRECTIONS: Record<TopicRule['action'], readonly ('publish' | 'subscribe')[]> = {
  publish: ['publish'],
  subscribe: ['subscribe'],
  all: ['publish', 'subscribe'],
}

const describeRule = (position: number, rule: TopicRule) => `rule ${position} (${rule.permission} ${rule.action} ${quoted(rule.topic)})`

/**
 * Whether some topic matches both filters (levels already filled in). A wildcard first level
 * matches no `$` topic, in mosquitto as in Certdesk.
 */
function filtersOverlap(a: readonly string[], b: readonly string[]): boolean {
  const dollarOnly = (x: readonly string[], y: readonly string[]) => (x[0] === '#' || x[0] === '+') && y[0].startsWith('$')
  if (dollarOnly(a, b) || dollarOnly(b, a)) return false
  for (let i = 0; ; i++) {
    const [x, y] = [a[i], b[i]]
    if (x === '#' || y === '#') return true
    if (x === undefined || y === undefined) return x === y
    if (x !== '+' && y !== '+' && x !== y) return false
  }
}

/** One device's rules as acl_file lines, and how many deny lines refuse more than Certdesk. */
interface DeviceAcl {
  lines: string[]
  narrowed: number
}

/**
 * The device's rules with ${clientid} (its device ID) and ${username} filled in, as `topic` lines
 * under its `user` line. mosquitto checks a user's deny lines before its allow lines, and a deny
 * has no direction, so the result is never wider than Certdesk: a topic mosquitto allows is
 * matched by no deny and by an allow, which Certdesk allows too. It is narrower where a deny
 * overlaps an allow placed before it, or an allow for the other direction; each such deny line
 * gets a comment saying so.
 */
function deviceAcl(rules: readonly TopicRule[], bound: readonly BoundTopicRule[]): DeviceAcl {
  const lines: string[] = []
  let narrowed = 0
  // What each rule matches as written into the file; undefined where it applies to no topic.
  // A filter an acl_file line would change (spaces at its ends, a control character): an allow is
  // left out, a deny denies every topic instead, as Certdesk fails closed.
  const effective: (readonly string[] | undefined)[] = bound.map((rule) => {
    if (rule.levels === undefined || aclWritable(rule.levels.join('/'))) return rule.levels
    return rule.permission === 'deny' ? ['#'] : undefined
  })
  bound.forEach((rule, index) => {
    const position = index + 1
    const levels = effective[index]
    if (levels === undefined) {
      const why =
        rule.levels === undefined
          ? 'does not apply to this device (filled in, it would not be a safe filter)'
          : 'is left out (it cannot be written in an acl_file line unchanged)'
      lines.push(`# ${describeRule(position, rules[index])} ${why}`)
      return
    }
    if (rule.permission === 'allow') {
      lines.push(`topic ${ACCESS[rule.action]} ${levels.join('/')}`)
      return
    }
    if (rule.levels !== undefined && levels !== rule.levels) {
      lines.push(`# ${describeRule(position, rules[index])} cannot be written in an acl_file line unchanged: denying every topic instead`)
    }
    const notes = denyNotes(position, rule, bound, effective)
    if (notes.length > 0) narrowed++
    lines.push(...notes, `topic deny ${levels.join('/')}`)
  })
  return { lines, narrowed }
}

/** Comments for a deny line that refuses topics Certdesk allows. */
function denyNotes(
  position: number,
  deny: BoundTopicRule,
  bound: readonly BoundTopicRule[],
  effective: readonly (readonly string[] | undefined)[],
): string[] {
  const notes: string[] = []
  const denyLevels = effective[position - 1] as readonly string[]
  bound.forEach((allow, index) => {
    const levels = effective[index]
    if (allow.permission !== 'allow' || levels === undefined || !filtersOverlap(levels, denyLevels)) return
    const shared = DIRECTIONS[allow.action].filter((direction) => DIRECTIONS[deny.action].includes(direction))
    const other = DIRECTIONS[allow.action].filter((direction) => !DIRECTIONS[deny.action].includes(direction))
    if (index + 1 < position && shared.length > 0) {
      notes.push(
        `# NARROWER than Certdesk: rule ${index + 1} comes first there and allows ${shared.join(' and ')} on topics it shares with ` +
          `rule ${position}; mosquitto checks this deny before every allow, so those topics are refused.`,
      )
    }
    if (other.length > 0) {
      notes.push(
        `# NARROWER than Certdesk: a mosquitto deny has no direction, so topics rule ${position} shares with rule ${index + 1} ` +
          `are refused for ${other.join(' and ')} too, which rule ${index + 1} allows.`,
      )
    }
  })
  return notes
}

/** Adds a `user` block; identical `topic` lines under one user are written once. */
function userBlock(header: string[], user: string, body: string[]): string[] {
  const seen = new Set<string>()
  const unique = body.filter((line) => line.startsWith('#') || (!seen.has(line) && seen.add(line)))
  return [...header, `user ${user}`, ...unique, '']
}

function rulesHeader(rules: readonly TopicRule[]): string[] {
  return [
    "# Certdesk's topic rules, first match wins, no match denies:",
    ...rules.map((rule, index) => `#   ${index + 1}. ${rule.permission} ${rule.action} ${quoted(rule.topic)}`),
    "# Each device's `user` block holds them with ${clientid} (its device ID) and ${username} (its",
    '# username) filled in. mosquitto checks a user\'s "deny" lines before its allow lines whatever',
    '# their order here, and a deny refuses both directions: a line marked NARROWER refuses topics',
    '# Certdesk allows. Nothing here allows a topic Certdesk refuses. Anything not allowed is refused.',
    '',
  ]
}

interface TokenExport {
  passwords: string[]
  usernames: string[]
  acl: string[]
  narrowed: number
  left: string[]
}

function tokenDevices(input: BrokerExportInput, compiled: ReturnType<typeof compileTopicRules>): TokenExport {
  const devices = [...input.tokenDevices].sort((a, b) => byText(a.deviceId, b.deviceId))
  const owners = new Map<string, string[]>()
  for (const device of devices) owners.set(device.username, [...(owners.get(device.username) ?? []), device.deviceId])
  const result: TokenExport = { passwords: [], usernames: [], acl: [], narrowed: 0, left: [] }
  for (const device of devices) {
    const others = (owners.get(device.username) ?? []).filter((id) => id !== device.deviceId)
    // mosquitto keys its password file by username, splits a line at its first ":" and skips a
    // line starting with "#".
    const problem =
      others.length > 0
        ? `its username is also ${others.join(', ')}'s, and mosquitto knows a user by username alone`
        : device.username.includes(':') || device.username.startsWith('#') || !aclWritable(device.username)
          ? 'its username cannot be written in a mosquitto password file (it holds ":" or starts with "#")'
          : undefined
    if (problem !== undefined) {
      result.left.push(`Token device ${device.deviceId} (username ${quoted(device.username)}): ${problem}.`)
      continue
    }
    const hash = saltedCredential(input, device.username, SALT_BYTES, (salt) => passwordHash(device.deviceKey, salt), saltOfPasswordHash)
    result.passwords.push(`${device.username}:${hash}`)
    result.usernames.push(device.username)
    const acl = deviceAcl(input.topicRules, bindTopicRules(compiled, { clientId: device.deviceId, username: device.username }))
    result.narrowed += acl.narrowed
    result.acl.push(...userBlock([`# token device ${device.deviceId}`], device.username, acl.lines))
  }
  return result
}

interface Bound {
  certificate: ExportedCertificate
  deviceId: string
  username: string
}

const certificateLine = ({ certificate: c, deviceId, username }: Bound) =>
  `certificate ${quoted(c.name)} serial ${c.serial} (SHA-256 ${c.fingerprint256}), valid until ${c.notAfter}, ` +
  `bound to device ${deviceId} (username ${quoted(username)})`

interface MutualExport {
  acl: string[]
  narrowed: number
  /** The common names with a user block, sorted. */
  granted: string[]
  left: string[]
}

function certificateDevices(input: BrokerExportInput, compiled: ReturnType<typeof compileTopicRules>): MutualExport {
  const all: Bound[] = [...input.certificateDevices]
    .sort((a, b) => byText(a.deviceId, b.deviceId))
    .flatMap((device) =>
      [...device.certificates]
        .sort((a, b) => byText(a.serial, b.serial))
        .map((certificate) => ({ certificate, deviceId: device.deviceId, username: device.username })),
    )
  const usable = all.filter(({ certificate }) => certificate.status === 'active' && certificate.enabled && aclWritable(certificate.cn))
  const byCn = new Map<string, Bound[]>()
  for (const entry of usable) byCn.set(entry.certificate.cn, [...(byCn.get(entry.certificate.cn) ?? []), entry])
  const result: MutualExport = { acl: [], narrowed: 0, granted: [...byCn.keys()].sort(byText), left: [] }
  for (const cn of result.granted) {
    const entries = byCn.get(cn) as Bound[]
    const header = entries.map((entry) => `# ${certificateLine(entry)}`)
    const deviceIds = [...new Set(entries.map((entry) => entry.deviceId))]
    if (deviceIds.length > 1) {
      header.push(
        `# This common name is on certificates bound to ${deviceIds.length} devices: it gets all their rules, and each`,
        "# device's deny lines refuse for all of them.",
      )
    }
    for (const entry of all) {
      if (entry.certificate.cn === cn && entry.certificate.status === 'active' && !entry.certificate.enabled) {
        header.push(`# Disabled, but with this common name, so it gets these topics too: ${certificateLine(entry)}`)
      }
    }
    const body: string[] = []
    for (const deviceId of deviceIds) {
      const { username } = entries.find((entry) => entry.deviceId === deviceId) as Bound
      const acl = deviceAcl(input.topicRules, bindTopicRules(compiled, { clientId: deviceId, username }))
      result.narrowed += acl.narrowed
      body.push(...(deviceIds.length > 1 ? [`# device ${deviceId}`] : []), ...acl.lines)
    }
    result.acl.push(...userBlock(header, cn, body))
  }
  const notGranted = all.filter((entry) => !usable.includes(entry))
  if (notGranted.length > 0) {
    result.acl.push('# Certificates with no user block here:')
    for (const entry of notGranted) {
      const { certificate } = entry
      const why =
        certificate.status === 'revoked'
          ? 'revoked: the CRL refuses the connection'
          : !certificate.enabled
            ? 'disabled: a valid certificate still connects, but gets no topic'
            : 'its common name cannot be written in an acl_file line: it connects, but gets no topic'
      result.acl.push(`#   ${certificateLine(entry)}, common name ${quoted(certificate.cn)}: ${why}`)
      if (certificate.status === 'active')
        result.left.push(`Certificate ${quoted(certificate.name)} (serial ${certificate.serial}): ${why}.`)
    }
    result.acl.push('')
  }
  for (const device of [...input.certificateDevices].sort((a, b) => byText(a.deviceId, b.deviceId))) {
    if (!usable.some((entry) => entry.deviceId === device.deviceId)) {
      result.left.push(`Certificate device ${device.deviceId}: no certificate bound to it is active and enabled, so it has no topic.`)
    }
  }
  return result
}

function configuration(input: BrokerExportInput, dir: string): string {
  const { oneWay, mutual } = input.ports
  const tls = [`certfile ${dir}/certs/server.crt`, `keyfile ${dir}/certs/server.key`, `cafile ${dir}/certs/ca.crt`]
  return [
    '# mosquitto 2.0 configuration written by Certdesk (certdesk export broker --target mosquitto).',
    `# Every file it names is under ${dir}: copy the exported folder there (README.md).`,
    '# "listener PORT" listens on every interface; "listener PORT ADDRESS" binds that address only.',
    '',
    '# Each listener has its own authentication and ACL file.',
    'per_listener_settings true',
    '',
    "# Certdesk's default limits: the largest MQTT packet (for the whole broker here) and, below, the",
    '# connections per listener (Certdesk counts both listeners together).',
    `max_packet_size ${input.limits.maxPacketBytes}`,
    '',
    "# One-way TLS: token devices check the broker's certificate and sign in with username and device key.",
    `listener ${oneWay}`,
    ...tls,
    'require_certificate false',
    'allow_anonymous false',
    `password_file ${dir}/passwords`,
    `acl_file ${dir}/acl-one-way`,
    "# The session is the username's, whatever client ID the device sends (see README.md, rule 3).",
    'use_username_as_clientid true',
    `max_connections ${input.limits.maxConnections}`,
    '',
    '# Mutual TLS: certificate devices present a certificate chained to the CA, not revoked; its',
    '# common name becomes the username, which names the block in acl-mutual.',
    `listener ${mutual}`,
    ...tls,
    `crlfile ${dir}/certs/crl.pem`,
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous false',
    `acl_file ${dir}/acl-mutual`,
    'use_username_as_clientid true',
    `max_connections ${input.limits.maxConnections}`,
    '',
  ].join('\n')
}

/** The rule-by-rule comparison, in the order and with the names every target's README uses. */
const rules = (input: BrokerExportInput): [string, string, string, string][] => [
  [
    "One-way TLS on 8883, the device checks the broker's certificate",
    "Yes: `certs/server.crt`, issued by the CA for the export's host names, with `certs/ca.crt` in the device's bundle.",
    '',
    '',
  ],
  [
    'One-way: username and device key (password) of a token device',
    'Yes: `passwords` holds a salted PBKDF2-SHA512 hash of each device key in mosquitto\'s own `$7$` format (101 iterations, as `mosquitto_passwd` writes it); the key itself is in no file. A token device whose username another token device shares, or that holds ":" or starts with "#", is left out (listed below).',
    '',
    '',
  ],
  [
    "One-way: client ID must be the token device's device ID",
    '',
    "mosquitto cannot tie a client ID to a password-file user. `use_username_as_clientid` replaces whatever client ID a device sends with its username, so no device can take over another's session (unless a token device's username is also a certificate's common name: listed below), and `acl-one-way` gives the username the topics of its device ID. A wrong client ID is accepted (Certdesk refuses it), and the session is named by the username, not the device ID, where the two differ.",
    '',
  ],
  [
    'Mutual TLS on 8884: a client certificate chained to the CA is required',
    'Yes: `require_certificate true` with `cafile certs/ca.crt` (the CA and, for an imported intermediate, its chain).',
    '',
    '',
  ],
  [
    'Revoked certificates are refused (CRL)',
    '',
    'mosquitto refuses a certificate listed in `certs/crl.pem`, which it reads when it starts and on reload. Certdesk refuses a revocation at once; mosquitto only once the CRL file is refreshed and mosquitto reloaded. After the CRL\'s next update date OpenSSL refuses every client certificate ("CRL has expired"): refresh it before then.',
    '',
  ],
  [
    'Disabled certificates (availability switch off) are refused',
    '',
    'A disabled certificate gets no block in `acl-mutual`: it still connects if it is valid, but can neither publish nor receive. Not so if an enabled certificate has the same common name (the ACL file says so). To refuse the connection itself, revoke the certificate.',
    '',
  ],
  ['Expired or not-yet-valid certificates are refused', 'Yes: OpenSSL checks the validity period during the handshake.', '', ''],
  [
    "The certificate must be bound to the certificate device whose device ID is the client ID, with that device's username",
    '',
    "mosquitto knows a certificate only by its common name (`use_identity_as_username`), which then is the username and, with `use_username_as_clientid`, the client ID. `acl-mutual` gives each common name of an active, enabled, bound certificate the topics of its bound device(s), with that device's ID and username filled in. Any other certificate chained to the CA and not revoked (unbound, or issued since the export) connects but gets no topic. The client ID and username the device sends are not checked. Certificates sharing a common name share its block.",
    '',
  ],
  [
    'Token devices cannot use 8884, certificate devices cannot use 8883',
    'Yes: 8884 requires a certificate, and 8883 accepts only the token devices in `passwords`; each listener has its own ACL file.',
    '',
    '',
  ],
  [
    'Topic rules: ordered, first match wins, ${clientid}/${username}, default deny',
    '',
    "Each device's rules are written under its `user` line with the placeholders filled in (token devices: device ID and username; certificates: the bound device's ID and username); anything else is refused, as in Certdesk. mosquitto has no rule order: deny lines are checked first and refuse both directions, so where a deny overlaps an earlier allow, or an allow for the other direction, mosquitto refuses topics Certdesk allows (such lines are marked NARROWER); it never allows a topic Certdesk refuses to that device (a common name on certificates of several devices gets all their topics at once). mosquitto 2.0 does not check SUBSCRIBE against the ACL file: every subscription is granted, and each message is checked when it is delivered (Certdesk refuses a subscription no allow rule covers).",
    '',
  ],
  [
    'A revocation or unbinding drops a connected device at once',
    '',
    'Only after a re-export and a reload (`systemctl reload mosquitto`, SIGHUP); `certdesk ca crl` alone refreshes the CRL, which mosquitto applies to new connections only. The reload checks connected token devices against `passwords` again and disconnects those no longer in it or whose key changed, and gives every connected client its new ACL: a certificate no longer granted keeps its connection but can no longer publish or receive.',
    '',
  ],
  [
    'Limits: largest packet, connections, connection rate per address',
    '',
    `\`max_packet_size ${input.limits.maxPacketBytes}\` and \`max_connections ${input.limits.maxConnections}\` are this folder's broker settings (mosquitto counts connections per listener, Certdesk over both together).`,
    'No connection rate per address: use a firewall rule (e.g. nftables `limit rate` per source address).',
  ],
]

function readme(input: BrokerExportInput, dir: string, tokens: TokenExport, mutual: MutualExport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|')
  // mosquitto has one set of client IDs: with use_username_as_clientid, these take over each other's session.
  const clashes = tokens.usernames
    .filter((username) => mutual.granted.includes(username))
    .map((name) => `Username ${quoted(name)} is a token device's and a certificate's common name: they share one session.`)
  const left = [...tokens.left, ...mutual.left, ...clashes]
  return [
    '# Certdesk fleet for Eclipse mosquitto 2.0',
    '',
    `Written by \`certdesk export broker --target mosquitto\`. The configuration names every file by its path under \`${dir}\`.`,
    '',
    '| File | What it is |',
    '| --- | --- |',
    '| `mosquitto.conf` | The two listeners: one-way TLS for token devices, mutual TLS for certificate devices. |',
    "| `certs/ca.crt` | The CA (and its chain) that issued the devices' and the broker's certificates. |",
    "| `certs/server.crt`, `certs/server.key` | The broker's TLS identity, issued for " +
      `${input.server.names.map((name) => `\`${name}\``).join(', ') || 'its host names'} (the key is secret). |`,
    "| `certs/crl.pem` | The CA's revocation list. |",
    `| \`passwords\` | ${tokens.passwords.length} token device(s): username and salted hash of the device key (secret). |`,
    `| \`acl-one-way\` | The topic rules of each token device, by username. |`,
    `| \`acl-mutual\` | The topic rules of each certificate common name (${mutual.granted.length} granted). |`,
    '| `certdesk-export.json` | What this export was made with (certificate names, install folder, ports), kept by a later `--only-changes-since`. |',
    '',
    '## Applying it',
    '',
    `1. Copy this folder to \`${dir}\` on the broker's machine (or export again with \`--install-dir\` naming where it goes).`,
    '2. mosquitto 2.0 reads these files after dropping to its own user, so let that user read them and nobody else:',
    `   \`chown -R root:mosquitto ${dir} && chmod -R g+rX,o-rwx ${dir}\`.`,
    `3. Either run it on its own (\`mosquitto -c ${dir}/mosquitto.conf\`), or make it part of Debian's configuration:`,
    `   \`ln -s ${dir}/mosquitto.conf /etc/mosquitto/conf.d/certdesk.conf\`. mosquitto refuses \`per_listener_settings\` after`,
    "   any listener or security setting: Debian's `/etc/mosquitto/mosquitto.conf` has none before its `include_dir`; if yours",
    '   has, move `per_listener_settings true` to its top.',
    `4. \`listener ${input.ports.oneWay}\` listens on every interface; \`listener ${input.ports.oneWay} ADDRESS\` binds one address only.`,
    '5. Restart mosquitto (`systemctl restart mosquitto`) and check its log.',
    '',
    'After any change to devices, certificates or topic rules, export again into a new folder, compare it with this one',
    '(`diff -r`: the same bytes but for the password hashes, salted afresh, and the CRL, made afresh), copy the changed files over',
    '(keeping your own changes to `mosquitto.conf`) and reload (`systemctl reload mosquitto`).',
    '',
    '## Refreshing the CRL',
    '',
    'mosquitto refuses every client certificate once the CRL is past its next update date, so refresh it before then:',
    `\`certdesk ca crl --out ${dir}/certs/crl.pem --force\` (or a re-export) and \`systemctl reload mosquitto\`.`,
    '`openssl crl -in certs/crl.pem -noout -nextupdate` shows the date.',
    '',
    "## Certdesk's rules in mosquitto",
    '',
    '| # | Certdesk rule | As Certdesk | Approximately (how) | Not at all |',
    '| --- | --- | --- | --- | --- |',
    ...rules(input).map(
      ([rule, same, approximately, not], index) =>
        `| ${index + 1} | ${cell(rule)} | ${cell(same)} | ${cell(approximately)} | ${cell(not)} |`,
    ),
    '',
    '## This export',
    '',
    mutual.narrowed + tokens.narrowed === 0
      ? '- No deny line refuses more than Certdesk does.'
      : `- ${tokens.narrowed + mutual.narrowed} deny line(s) refuse more than Certdesk does: see NARROWER in the ACL files.`,
    ...(left.length === 0
      ? ['- Every device is exported.']
      : ['- Left out, connecting without topics, or sharing a session:', ...left.map((line) => `  - ${line}`)]),
    '',
  ].join('\n')
}

/** The mosquitto files of an export (the certificates and CRL come from commonFiles). */
export function mosquittoExport(input: BrokerExportInput): BrokerExportFile[] {
  const dir = input.installDir ?? DEFAULT_INSTALL_DIR
  const compiled = compileTopicRules(input.topicRules)
  const tokens = tokenDevices(input, compiled)
  const mutual = certificateDevices(input, compiled)
  const header = (what: string) => [`# mosquitto acl_file written by Certdesk: ${what}.`, ...rulesHeader(input.topicRules)]
  return [
    { path: 'mosquitto.conf', contents: configuration(input, dir), secret: false },
    {
      path: 'passwords',
      contents: ['# mosquitto password_file written by Certdesk: token devices, PBKDF2-SHA512', ...tokens.passwords, ''].join('\n'),
      secret: true,
    },
    { path: 'acl-one-way', contents: [...header('token devices on the one-way listener'), ...tokens.acl].join('\n'), secret: false },
    {
      path: 'acl-mutual',
      contents: [...header('certificate common names on the mutual listener'), ...mutual.acl].join('\n'),
      secret: false,
    },
    { path: 'README.md', contents: readme(input, dir, tokens, mutual), secret: false },
  ]
}
