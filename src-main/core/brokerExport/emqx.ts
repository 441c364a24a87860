// The EMQX 5 export: a HOCON snippet for emqx.conf (two SSL listeners, built-in-database
// authentication, file authorization), the users to import, acl.conf and a README.
//
// Formats as EMQX 5.8 reads them (github.com/emqx/emqx, tag v5.8.9):
// - listeners, zones, ssl_options, enable_authn, crl_cache: apps/emqx/src/emqx_schema.erl
// - salted hashes: apps/emqx/src/emqx_passwd.erl (hex of sha256(salt ++ password) for
//   salt_position = prefix; the salt is used as the text it is) and
//   apps/emqx_auth/src/emqx_authn/emqx_authn_password_hashing.erl (EMQX's own salts: 16 random
//   bytes as 32 lowercase hex digits, which is what this export writes too)
// - user import: apps/emqx_auth_mnesia/src/emqx_authn_mnesia.erl (CSV or JSON by extension, fields
//   user_id, password_hash, salt, is_superuser) and apps/emqx_utils/src/emqx_utils_stream.erl (the
//   CSV reader splits on commas, no quoting)
// - acl.conf: apps/emqx_auth/etc/acl.conf and apps/emqx_auth/src/emqx_authz/emqx_authz_rule.erl
import { createHash } from 'node:crypto'
import { type BoundTopicRule, bindTopicRules, compileTopicRules } from '../broker/topicRules'
import { saltedCredential } from './credentials'
import type { ExportedUsers } from './changes'
import { inExportOrder, sharedTokenUsernames } from './types'
import type { BrokerExportFile, BrokerExportInput } from './types'

const EMQX_DEFAULT_INSTALL_DIR = '/etc/emqx/certs/certdesk'

/** The listeners' names in emqx.conf: `listeners.ssl.<name>`, and the zones they use. */
const EMQX_LISTENERS = { oneWay: 'certdesk_one_way', mutual: 'certdesk_mutual' } as const

/** The header of EMQX's built-in database import file with hashed passwords. */
export const EMQX_USERS_CSV_HEADER = 'user_id,password_hash,salt,is_superuser'

/** Salted SHA-256 as EMQX's emqx_passwd computes it for `salt_position = prefix`: lowercase hex. */
function emqxSha256Prefix(salt: string, password: string): string {
  return createHash('sha256').update(salt, 'utf8').update(password, 'utf8').digest('hex')
}

const SALT_BYTES = 16

/** A user's salt and hash as one credential (`previousCredentials`): `SALT$HASH`, both hex. */
const storedForm = (salt: string, passwordHash: string) => `${salt}$${passwordHash}`

function saltOfStoredForm(stored: string): Buffer | undefined {
  const salt = stored.split('$')[0]
  return /^(?:[0-9a-f]{2})+$/.test(salt) ? Buffer.from(salt, 'hex') : undefined
}

/** The built-in database users of an export's users.json, as `SALT$HASH` (certificates are no users on EMQX). */
export function emqxUsers(fileText: (path: string) => string | undefined): ExportedUsers {
  const text = fileText('users.json')
  const users: ExportedUsers = { tokens: new Map(), certificates: new Set() }
  if (text === undefined) return users
  const list: unknown = JSON.parse(text)
  if (!Array.isArray(list)) throw new Error('it is not a list of users')
  for (const user of list as ({ user_id?: unknown; password_hash?: unknown; salt?: unknown } | null)[]) {
    if (typeof user?.user_id === 'string' && typeof user.password_hash === 'string' && typeof user.salt === 'string') {
      users.tokens.set(user.user_id, storedForm(user.salt, user.password_hash))
    }
  }
  return users
}

interface HashedUser {
  userId: string
  passwordHash: string
  salt: string
}

export function emqxExport(given: BrokerExportInput): BrokerExportFile[] {
  // Token devices sharing a username are left out: one user ID, one password, and its holder
  // would match the other device's (username, client ID) block. The README names them.
  const ordered = inExportOrder(given)
  const shared = sharedTokenUsernames(ordered)
  const input = { ...ordered, tokenDevices: ordered.tokenDevices.filter((device) => !shared.has(device.username)) }
  const leftOut = ordered.tokenDevices.filter((device) => shared.has(device.username))
  const dir = (input.installDir ?? EMQX_DEFAULT_INSTALL_DIR).replace(/\/+$/, '')
  const tokenDevices = input.tokenDevices
  // One salt per device, in device-ID order, so fixed random bytes give byte-identical files.
  const users: HashedUser[] = tokenDevices.map((device) => {
    const hashWith = (salt: Buffer) => storedForm(salt.toString('hex'), emqxSha256Prefix(salt.toString('hex'), device.deviceKey))
    const [salt, passwordHash] = saltedCredential(input, device.username, SALT_BYTES, hashWith, saltOfStoredForm).split('$')
    return { userId: device.username, salt, passwordHash }
  })
  return [
    { path: 'emqx.conf', contents: emqxConf(input, dir), secret: false },
    { path: 'users.csv', contents: usersCsv(users), secret: true },
    { path: 'users.json', contents: usersJson(users), secret: true },
    { path: 'acl.conf', contents: aclConf(input), secret: false },
    { path: 'README.md', contents: readme(input, dir, users, leftOut), secret: false },
  ]
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

// ---------------------------------------------------------------------------------------------
// emqx.conf

/** A HOCON quoted string: JSON's string syntax is HOCON's. */
const hocon = (text: string) => JSON.stringify(text)

/** EMQX's bytesize: "256KB" when whole kilobytes, else bytes. */
const bytesize = (bytes: number) => (bytes % 1024 === 0 ? `${bytes / 1024}KB` : `${bytes}B`)

function emqxConf(input: BrokerExportInput, dir: string): string {
  const { oneWay, mutual } = EMQX_LISTENERS
  const { limits } = input
  const tls = (verify: 'verify_none' | 'verify_peer') => [
    `    cacertfile = ${hocon(`${dir}/certs/ca.crt`)}`,
    `    certfile = ${hocon(`${dir}/certs/server.crt`)}`,
    `    keyfile = ${hocon(`${dir}/certs/server.key`)}`,
    `    verify = ${verify}`,
  ]
  return [
    '# Certdesk export for EMQX 5: merge into emqx.conf (or include it: include "<this file>").',
    `# It names the files of this folder copied to ${dir} (certs/, users.json, acl.conf); see README.md.`,
    '#',
    "# EMQX's example listeners would take the same ports with EMQX's demo certificates, or let token",
    '# devices send their key without TLS: they are switched off. Remove a line to keep that listener.',
    'listeners.tcp.default.enable = false',
    'listeners.ssl.default.enable = false',
    'listeners.ws.default.enable = false',
    'listeners.wss.default.enable = false',
    '',
    '# One-way TLS: the device checks the broker; token devices log in with username and device key.',
    `listeners.ssl.${oneWay} {`,
    `  bind = ${hocon(`0.0.0.0:${input.ports.oneWay}`)}`,
    `  zone = ${oneWay}`,
    `  max_connections = ${limits.maxConnections}`,
    '  enable_authn = true',
    '  ssl_options {',
    ...tls('verify_none'),
    '  }',
    '}',
    '',
    '# Mutual TLS: a client certificate chained to the CA is required and checked against the CRL.',
    '# The certificate is the credential (enable_authn = false: the password database is not asked);',
    "# its common name becomes the username that acl.conf ties to the device's client ID.",
    `listeners.ssl.${mutual} {`,
    `  bind = ${hocon(`0.0.0.0:${input.ports.mutual}`)}`,
    `  zone = ${mutual}`,
    `  max_connections = ${limits.maxConnections}`,
    '  enable_authn = false',
    '  ssl_options {',
    ...tls('verify_peer'),
    '    fail_if_no_peer_cert = true',
    '    enable_crl_check = true',
    '  }',
    '}',
    '',
    `zones.${oneWay}.mqtt {`,
    `  max_packet_size = ${bytesize(limits.maxPacketBytes)}`,
    '}',
    `zones.${mutual}.mqtt {`,
    '  peer_cert_as_username = cn',
    `  max_packet_size = ${bytesize(limits.maxPacketBytes)}`,
    '}',
    '',
    "# EMQX fetches the CRL from each certificate's CRL distribution point and refreshes it this often.",
    'crl_cache {',
    '  refresh_interval = 1m',
    '}',
    '',
    '# Token devices: salted SHA-256 of the device key, loaded from users.json when EMQX starts',
    '# (users already in the database are kept; import again to replace them, see README.md).',
    'authentication = [',
    '  {',
    '    mechanism = password_based',
    '    backend = built_in_database',
    '    user_id_type = username',
    '    password_hash_algorithm {',
    '      name = sha256',
    '      salt_position = prefix',
    '    }',
    `    bootstrap_file = ${hocon(`${dir}/users.json`)}`,
    '    bootstrap_type = hash',
    '  }',
    ']',
    '',
    '# Topic rules: acl.conf only, first match wins, anything unmatched is denied.',
    'authorization {',
    '  no_match = deny',
    '  sources = [',
    '    {',
    '      type = file',
    '      enable = true',
    `      path = ${hocon(`${dir}/acl.conf`)}`,
    '    }',
    '  ]',
    '}',
    '',
  ].join('\n')
}

// ---------------------------------------------------------------------------------------------
// users

/** What EMQX's CSV reader cannot carry in a field: it splits lines on CR/LF and fields on commas, and trims. */
const csvCannotCarry = (value: string) => /[,\r\n]/.test(value) || value.trim() !== value || value === ''

function usersCsv(users: readonly HashedUser[]): string {
  const rows = users.filter((user) => !csvCannotCarry(user.userId)).map((user) => `${user.userId},${user.passwordHash},${user.salt},false`)
  return [EMQX_USERS_CSV_HEADER, ...rows, ''].join('\n')
}

function usersJson(users: readonly HashedUser[]): string {
  const entries = users.map((user) => ({ user_id: user.userId, password_hash: user.passwordHash, salt: user.salt, is_superuser: false }))
  return JSON.stringify(entries, null, 2) + '\n'
}

// ---------------------------------------------------------------------------------------------
// acl.conf

/**
 * An Erlang string literal that file:consult reads back as exactly `text`: quotes, backslashes
 * and anything outside printable ASCII escaped (non-ASCII as \x{...}, which EMQX turns into UTF-8).
 */
function erlangString(text: string): string {
  let out = '"'
  for (const char of text) {
    const code = char.codePointAt(0)!
    if (char === '"' || char === '\\') out += `\\${char}`
    else if (code >= 0x20 && code <= 0x7e) out += char
    else out += `\\x{${code.toString(16).toUpperCase()}}`
  }
  return out + '"'
}

/**
 * A filled-in filter EMQX would read as something else: `eq ...` is EMQX's exact-match form and
 * `${...}` a placeholder it renders itself (only a device ID or username can bring one in here).
 */
const emqxReadsOtherwise = (topic: string) => topic.startsWith('eq ') || topic.includes('${')

/** Whose block: EMQX's `who` for one device (and one certificate common name). */
type Who = { username: string; clientid: string }

function aclRule(rule: BoundTopicRule, who: Who): string | undefined {
  if (rule.levels === undefined) return undefined
  let topic = rule.levels.join('/')
  if (emqxReadsOtherwise(topic)) {
    // Never widen: an allow that EMQX would read differently is left out, a deny denies all.
    if (rule.permission === 'allow') return undefined
    topic = '#'
  }
  const whoTerm = `{'and', [{username, ${erlangString(who.username)}}, {clientid, ${erlangString(who.clientid)}}]}`
  return `{${rule.permission}, ${whoTerm}, ${rule.action}, [${erlangString(topic)}]}.`
}

function aclConf(input: BrokerExportInput): string {
  const compiled = compileTopicRules(input.topicRules)
  const lines = [
    '%% Certdesk export for EMQX 5: file authorization (authorization.sources, type = file).',
    "%% Certdesk's topic rules, filled in for each device: a block per device, matched by its",
    '%% username and client ID (certificate devices: the certificate common name is the username),',
    "%% in the rules' order, first match wins. Anything else is denied by the last rule.",
    '',
  ]
  const block = (title: string, who: Who, subject: { clientId: string; username: string }) => {
    lines.push(`%% ${title.replace(/[^\x20-\x7e]/g, '?')}`)
    for (const rule of bindTopicRules(compiled, subject)) {
      const line = aclRule(rule, who)
      if (line !== undefined) lines.push(line)
    }
    lines.push('')
  }
  for (const device of [...input.tokenDevices].sort((a, b) => compare(a.deviceId, b.deviceId))) {
    const subject = { clientId: device.deviceId, username: device.username }
    block(`token device ${device.deviceId}`, { username: device.username, clientid: device.deviceId }, subject)
  }
  for (const device of [...input.certificateDevices].sort((a, b) => compare(a.deviceId, b.deviceId))) {
    const subject = { clientId: device.deviceId, username: device.username }
    for (const cn of usableCommonNames(device.certificates)) {
      block(`certificate device ${device.deviceId}, certificate CN ${cn}`, { username: cn, clientid: device.deviceId }, subject)
    }
  }
  lines.push('{deny, all}.', '')
  return lines.join('\n')
}

/** The common names of a device's certificates that Certdesk would accept: active and enabled. */
function usableCommonNames(certificates: BrokerExportInput['certificateDevices'][number]['certificates']): string[] {
  const names = certificates
    .filter((certificate) => certificate.status === 'active' && certificate.enabled)
    .map((certificate) => certificate.cn)
  return [...new Set(names)].sort(compare)
}

// ---------------------------------------------------------------------------------------------
// README

type Support = 'as Certdesk' | 'approximately' | 'not at all'

/** Certdesk's rules, in the order and with the names every target's README uses. */
function ruleTable(input: BrokerExportInput): [string, Support, string][] {
  const { oneWay, mutual } = input.ports
  return [
    [
      `One-way TLS on ${oneWay}, the device checks the broker's certificate`,
      'as Certdesk',
      `\`listeners.ssl.${EMQX_LISTENERS.oneWay}\` on ${oneWay} with server.crt (issued by the CA for the export's host names) and \`verify = verify_none\`.`,
    ],
    [
      'One-way: username and device key (password) of a token device',
      'as Certdesk',
      'Built-in database, `user_id_type = username`, salted SHA-256 (`salt_position = prefix`) of the device key; the key itself is in no file.',
    ],
    [
      "One-way: client ID must be the token device's device ID",
      'approximately',
      'EMQX accepts the connection whatever the client ID; acl.conf gives topics only to the pair (username, device ID), so with another client ID the device can publish and subscribe to nothing.',
    ],
    [
      `Mutual TLS on ${mutual}: a client certificate chained to the CA is required`,
      'as Certdesk',
      '`verify = verify_peer`, `fail_if_no_peer_cert = true`, `cacertfile` = the CA (and its chain).',
    ],
    [
      'Revoked certificates are refused (CRL)',
      'approximately',
      "`enable_crl_check = true`: EMQX fetches the CRL over HTTP from the certificate's CRL distribution point (not from a file) and refreshes it every `crl_cache.refresh_interval` (1m here). Certificates must carry a distribution point (`certdesk ca set --crl-url URL` before issuing) and certs/crl.pem must be served at that URL; a certificate without one, or whose CRL cannot be fetched, cannot be checked, and EMQX then refuses it (its tests show an unreachable CRL refusing the handshake).",
    ],
    [
      'Disabled certificates (availability switch off) are refused',
      'approximately',
      'EMQX has no such switch: a disabled certificate still connects (TLS accepts it), but acl.conf has no block for it, so it can publish and subscribe to nothing. Identified by common name: an enabled certificate with the same CN gives the same access.',
    ],
    [
      'Expired or not-yet-valid certificates are refused',
      'as Certdesk',
      'TLS certificate path validation (`verify_peer`) checks the validity period.',
    ],
    [
      "The certificate must be bound to the certificate device whose device ID is the client ID, with that device's username",
      'approximately',
      "`peer_cert_as_username = cn` makes the certificate's common name the username (what the client sends is ignored); acl.conf gives each bound, active, enabled certificate's CN the device's rules only with the device ID as client ID. Any certificate of the CA connects; an unbound one, or a wrong client ID, gets no topic. Binding is by CN, not fingerprint: give each certificate its own CN (the default random CN does). ${username} in rules is filled with the device's Certdesk username.",
    ],
    [
      `Token devices cannot use ${mutual}, certificate devices cannot use ${oneWay}`,
      'approximately',
      `On ${oneWay} every client needs a username and device key from the built-in database, which holds token devices only. On ${mutual} a client needs a certificate of the CA; token devices have none, and their acl.conf blocks would need a certificate whose CN is a token device's username.`,
    ],
    [
      'Topic rules: ordered, first match wins, ${clientid}/${username}, default deny',
      'approximately',
      'acl.conf is ordered and first match wins, `{deny, all}.` last and `no_match = deny`. Placeholders are filled in per device by Certdesk (a block per device) rather than by EMQX. A subscription is checked once, as a filter: a deny rule that only overlaps a subscribed filter is not applied per message as Certdesk does.',
    ],
    [
      'A revocation or unbinding drops a connected device at once',
      'not at all',
      'A new CRL or acl.conf applies to new connections and checks (after the authorization cache, 1 minute by default); connected clients stay. Kick them: `emqx ctl clients kick <client ID>`.',
    ],
    [
      'Limits: largest packet, connections, connection rate per address',
      'approximately',
      `\`max_packet_size = ${bytesize(input.limits.maxPacketBytes)}\` per zone and \`max_connections = ${input.limits.maxConnections}\` per listener (this folder's broker settings; Certdesk counts connections over both listeners). EMQX has no connection rate per address: \`max_conn_rate\` limits a whole listener, \`flapping_detect\` a client ID.`,
    ],
  ]
}

function readme(
  input: BrokerExportInput,
  dir: string,
  users: readonly HashedUser[],
  leftOut: readonly { deviceId: string; username: string }[],
): string {
  const notInCsv = users.filter((user) => csvCannotCarry(user.userId)).map((user) => user.userId)
  const table = ruleTable(input).map(([rule, support, how], i) => `| ${i + 1} | ${rule} | ${support} | ${how.replace(/\|/g, '\\|')} |`)
  return [
    '# Certdesk export for EMQX 5',
    '',
    `Broker host names in server.crt: ${input.server.names.join(', ') || '(none)'}.`,
    '',
    '## Files',
    '',
    '| File | What |',
    '| --- | --- |',
    "| certs/ca.crt, certs/server.crt, certs/server.key | The CA (and its chain), the broker's certificate and key (secret). |",
    "| certs/crl.pem | The CA's revocation list, to publish at the CRL distribution point URL. |",
    '| emqx.conf | Listeners, zones, CRL cache, authentication and authorization (HOCON) to merge into emqx.conf. |',
    '| users.json, users.csv | Token devices for the built-in database: salted SHA-256 hashes (secret). |',
    '| acl.conf | Topic rules for file authorization. |',
    '| certdesk-export.json | What this export was made with (certificate names, install folder, ports), kept by a later --only-changes-since. |',
    '',
    '## Apply',
    '',
    `1. Copy this folder to ${dir} on every node, owned by the emqx user (certs/server.key and the users files readable by it only): emqx.conf names the files there.`,
    '2. Merge emqx.conf into /etc/emqx/emqx.conf (or add `include "…/emqx.conf"` at its end). It replaces `authentication` and `authorization.sources` as a whole and switches off EMQX\'s example listeners.',
    "3. Serve certs/crl.pem at the CA's CRL distribution point URL (see the table, rule 5), and serve each new CRL there after revoking.",
    '4. Restart EMQX (`emqx restart`); on a cluster, node by node. The built-in database loads users.json when the authenticator starts, keeping users it already has.',
    '5. To replace users on a running cluster (after a re-export), import the file with the REST API, which overwrites existing users:',
    '   `curl -u KEY:SECRET -F filename=@users.json "http://HOST:18083/api/v5/authentication/password_based%3Abuilt_in_database/import_users?type=hash"`',
    '   or in the dashboard: Access Control → Authentication → Built-in Database → Users → Import (users.csv or users.json). Users removed from Certdesk must be deleted there by hand.',
    '6. After a re-export, copy acl.conf again and reload it: dashboard Access Control → Authorization → File → Update, or restart.',
    '',
    notInCsv.length === 0
      ? 'users.csv and users.json hold the same users.'
      : `users.csv leaves out ${notInCsv.join(', ')}: EMQX's CSV reader cannot carry a comma in a field. Import users.json.`,
    ...(leftOut.length === 0
      ? []
      : [
          `Left out: these token devices share a username with another token device (EMQX keeps one password per user ID); give each its own username in Certdesk and export again: ${leftOut.map((device) => `${device.deviceId} (${device.username})`).join(', ')}.`,
        ]),
    'Certificate devices are not users: the mutual listener does not ask the password database (`enable_authn = false`); their certificate is the credential and acl.conf ties its common name to the device ID.',
    '',
    "## Certdesk's rules on EMQX",
    '',
    '| # | Certdesk rule | EMQX | How |',
    '| --- | --- | --- | --- |',
    ...table,
    '',
  ].join('\n')
}
