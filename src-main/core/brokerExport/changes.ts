// `certdesk export broker --only-changes-since DIR`: of a new export, only the files that differ
// from an earlier one for the same target, with CHANGES.md naming the users added, changed and
// removed and saying how to apply them (a broker's user import adds and updates, never deletes).
import { posix } from 'node:path'
import { emqxUsers } from './emqx'
import { mosquittoUsers } from './mosquitto'
import { rabbitmqUsers } from './rabbitmq'
import { validateServerName } from '../broker/serverCertificate'
import { validateInstallDir } from './options'
import {
  BROKER_TARGET_NAMES,
  type BrokerExportFile,
  type BrokerTarget,
  DEFAULT_INSTALL_DIRS,
  EXPORT_SETTINGS_FILE,
  type ExportSettings,
  byCodePoint,
} from './types'

export const CHANGES_FILE = 'CHANGES.md'

/** The file each target keeps its users in (a reader of a damaged one names it). */
export const USER_FILES: Record<BrokerTarget, string> = {
  mosquitto: 'passwords',
  rabbitmq: 'definitions.json',
  emqx: 'users.json',
}

/** Files that hold the operator's own settings once merged: they are merged again by hand, never copied over. */
const MERGED_FILES: Record<BrokerTarget, readonly string[]> = {
  mosquitto: ['mosquitto.conf'],
  rabbitmq: ['rabbitmq.conf', 'advanced.config'],
  emqx: ['emqx.conf'],
}

/**
 * The users an export's files name: token devices with their stored credentials (kept apart from
 * certificates' common names, which a username may equal), and the common names that log in.
 */
export interface ExportedUsers {
  tokens: Map<string, string>
  certificates: Set<string>
}

export type ExportedUsersReader = (fileText: (path: string) => string | undefined) => ExportedUsers

export const EXPORTED_USERS: Record<BrokerTarget, ExportedUsersReader> = {
  mosquitto: mosquittoUsers,
  rabbitmq: rabbitmqUsers,
  emqx: emqxUsers,
}

/** The files every whole export has, then each target's own (a folder of changes lacks some). */
const COMMON_FILES = ['certs/ca.crt', 'certs/server.crt', 'certs/server.key', 'certs/crl.pem', 'README.md']
export const WHOLE_EXPORT_FILES: Record<BrokerTarget, readonly string[]> = {
  mosquitto: [...COMMON_FILES, 'mosquitto.conf', 'passwords', 'acl-one-way', 'acl-mutual'],
  rabbitmq: [...COMMON_FILES, 'definitions.json', 'rabbitmq.conf', 'advanced.config'],
  emqx: [...COMMON_FILES, 'emqx.conf', 'users.csv', 'users.json', 'acl.conf'],
}

/** RabbitMQ's copy of the CRL, named by its issuer's hash (as Erlang's ssl_crl_hash_dir looks it up). */
const RABBITMQ_CRL_FILE = /^crl\/[0-9a-f]{8}\.r\d+$/

/** Whether an export for the target writes this path: only such files are read from an earlier folder or reported gone. */
export const isExportPath = (target: BrokerTarget, path: string) =>
  path === EXPORT_SETTINGS_FILE || WHOLE_EXPORT_FILES[target].includes(path) || (target === 'rabbitmq' && RABBITMQ_CRL_FILE.test(path))

/**
 * The settings an earlier export was made with (undefined for one made before Certdesk wrote
 * them). Throws an Error naming the problem when the file is not as Certdesk writes it.
 */
export function exportSettingsIn(files: ExportFolderFiles, target: BrokerTarget): ExportSettings | undefined {
  const text = textOf(files)(EXPORT_SETTINGS_FILE)
  if (text === undefined) return undefined
  const parsed = JSON.parse(text) as Partial<ExportSettings> | null
  const port = (value: unknown) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535
  const fits =
    parsed?.format === 1 &&
    parsed.target === target &&
    Array.isArray(parsed.serverNames) &&
    parsed.serverNames.every((name) => typeof name === 'string') &&
    typeof parsed.installDir === 'string' &&
    port(parsed.ports?.oneWay) &&
    port(parsed.ports?.mutual) &&
    parsed.ports?.oneWay !== parsed.ports?.mutual
  if (!fits) throw new Error(`it is not the settings of an export for ${BROKER_TARGET_NAMES[target]}`)
  for (const name of parsed.serverNames ?? []) validateServerName(name)
  validateInstallDir(parsed.installDir ?? '')
  return parsed as ExportSettings
}

/** Names of users added, with a new key, and removed (token devices and certificates together). */
export interface UserChanges {
  added: string[]
  changed: string[]
  removed: string[]
}

interface UserRow {
  name: string
  kind: 'token device' | 'certificate'
  change: 'added' | 'key changed' | 'removed'
}

export interface BrokerExportChanges {
  /** The files that differ from the earlier export or are new, then CHANGES.md. */
  files: BrokerExportFile[]
  users: UserChanges
  /** Files of the earlier export that this one no longer has. */
  gone: string[]
}

/** An earlier export's files by path, as read from its folder. */
export type ExportFolderFiles = ReadonlyMap<string, Buffer>

/** An earlier whole export (`readEarlierExport`): its files, users and settings. */
export interface EarlierExport {
  dir: string
  files: ExportFolderFiles
  users: ExportedUsers
  /** Undefined for an export made before Certdesk wrote its settings beside it. */
  settings: ExportSettings | undefined
}

export const textOf = (files: ExportFolderFiles) => (path: string) => files.get(path)?.toString('utf8')

function userRows(before: ExportedUsers, after: ExportedUsers): UserRow[] {
  const rows: UserRow[] = []
  for (const [name, credential] of after.tokens) {
    const earlier = before.tokens.get(name)
    if (earlier === undefined) rows.push({ name, kind: 'token device', change: 'added' })
    else if (earlier !== credential) rows.push({ name, kind: 'token device', change: 'key changed' })
  }
  for (const name of before.tokens.keys()) if (!after.tokens.has(name)) rows.push({ name, kind: 'token device', change: 'removed' })
  for (const name of after.certificates) if (!before.certificates.has(name)) rows.push({ name, kind: 'certificate', change: 'added' })
  for (const name of before.certificates) if (!after.certificates.has(name)) rows.push({ name, kind: 'certificate', change: 'removed' })
  return rows.sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.kind, b.kind))
}

function summary(rows: readonly UserRow[]): UserChanges {
  const names = (change: UserRow['change']) => [...new Set(rows.filter((row) => row.change === change).map((row) => row.name))]
  return { added: names('added'), changed: names('key changed'), removed: names('removed') }
}

export function changesSince(
  target: BrokerTarget,
  earlier: EarlierExport,
  files: readonly BrokerExportFile[],
  installDir: string = DEFAULT_INSTALL_DIRS[target],
): BrokerExportChanges {
  const differs = (file: BrokerExportFile) => {
    const before = earlier.files.get(file.path)
    return before === undefined || !before.equals(Buffer.from(file.contents))
  }
  const changed = files.filter(differs)
  const paths = new Set(files.map((file) => file.path))
  const gone = [...earlier.files.keys()].filter((path) => !paths.has(path) && isExportPath(target, path)).sort(byCodePoint)
  const fileMap = new Map(files.map((file) => [file.path, Buffer.from(file.contents)]))
  const after = EXPORTED_USERS[target](textOf(fileMap))
  const rows = userRows(earlier.users, after)
  const users = summary(rows)
  // A name to delete on the broker is one the new export has in no form (a username and a common
  // name are one user on RabbitMQ).
  const deleted = users.removed.filter((name) => !after.tokens.has(name) && !after.certificates.has(name))
  const serverNames = exportSettingsIn(fileMap, target)?.serverNames
  const text = changesReadme(target, earlier.dir, installDir, { changed, rows, deleted, gone, serverNames })
  return { files: [...changed, { path: CHANGES_FILE, contents: text, secret: false }], users, gone }
}

/** A word for the shell, in single quotes. */
const shellWord = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`
const code = (text: string) => `\`${text}\``

function changesReadme(
  target: BrokerTarget,
  earlierDir: string,
  installDir: string,
  {
    changed,
    rows,
    deleted,
    gone,
    serverNames,
  }: {
    changed: readonly BrokerExportFile[]
    rows: readonly UserRow[]
    deleted: readonly string[]
    gone: readonly string[]
    serverNames: readonly string[] | undefined
  },
): string {
  const merged = changed.filter((file) => MERGED_FILES[target].includes(file.path)).map((file) => file.path)
  const copied = changed.filter((file) => !MERGED_FILES[target].includes(file.path) && file.path !== 'README.md').map((file) => file.path)
  const lines = [
    `# Changes for ${BROKER_TARGET_NAMES[target]} since the export in ${earlierDir}`,
    '',
    'This folder holds only the files of a new export that differ from that one. A token device whose key did not',
    'change keeps its hash (and salt), so a user listed as changed is one whose key did.',
    '',
  ]
  const changedPaths = new Set(changed.map((file) => file.path))
  const identityChanged = IDENTITY_FILES.some((path) => changedPaths.has(path))
  if (changedPaths.has('certs/ca.crt')) {
    lines.push(
      "**The CA certificate changed** (an imported intermediate's chain, or another CA): devices must trust the new `root_ca.crt` before the broker uses it.",
      '',
    )
  }
  if (changedPaths.has('certs/server.crt')) {
    lines.push(
      `**The broker's certificate changed**; its names are now: ${(serverNames ?? []).map(code).join(', ') || 'see certs/server.crt'}. A device that checks another name will refuse the broker: give those names with \`--host\`.`,
      '',
    )
  }
  lines.push('## Users', '')
  if (rows.length === 0) lines.push('No user was added, changed or removed.', '')
  else
    lines.push(
      '| User | Kind | Change |',
      '| --- | --- | --- |',
      ...rows.map((row) => `| ${cell(row.name)} | ${row.kind} | ${row.change} |`),
      '',
    )
  lines.push('## Files', '')
  if (copied.length > 0) {
    lines.push(`Copy over the installed folder (${code(installDir)}), on every node of a cluster, keeping their modes:`, '')
    lines.push(...copied.map((path) => `- ${code(path)}`), '')
  }
  if (merged.length > 0) {
    lines.push('Merge by hand (they hold your own settings too):', '', ...merged.map((path) => `- ${code(path)}`), '')
  }
  if (changed.some((file) => file.path === 'README.md')) lines.push('`README.md` changed too: read it again.', '')
  if (gone.length > 0)
    lines.push('Delete from the installed folder (the new export has no such file):', '', ...gone.map((path) => `- ${code(path)}`), '')
  lines.push(
    `Then copy these files (not ${CHANGES_FILE}) over ${code(earlierDir)} too, so that it stays the whole export to name in the`,
    'next `--only-changes-since`.',
    '',
    '## Apply',
    '',
    ...applySteps(target, installDir, { rows, deleted, copied: new Set(copied), merged: merged.length > 0, identityChanged }),
    '',
  )
  return lines.join('\n')
}

const cell = (text: string) => text.replace(/[|`]/g, '\\$&').replace(/[\r\n]/g, ' ')

/** A user name as one path segment of a URL: "." and ".." too, which curl would otherwise resolve away. */
const urlSegment = (name: string) => encodeURIComponent(name).replace(/\./g, '%2E')

function applySteps(
  target: BrokerTarget,
  installDir: string,
  {
    rows,
    deleted,
    copied,
    merged,
    identityChanged,
  }: { rows: readonly UserRow[]; deleted: readonly string[]; copied: ReadonlySet<string>; merged: boolean; identityChanged: boolean },
): string[] {
  return [
    ...targetSteps(target, installDir, { rows, deleted, copied, merged }),
    ...(identityChanged ? ['', RESTART_FOR_IDENTITY[target]] : []),
  ]
}

/** The broker's certificate and key and the CA: read when a listener starts, so a restart takes them. */
const IDENTITY_FILES = ['certs/ca.crt', 'certs/server.crt', 'certs/server.key']

const RESTART_FOR_IDENTITY: Record<BrokerTarget, string> = {
  mosquitto: 'The certificates changed: restart mosquitto (`systemctl restart mosquitto`) for its listeners to use them.',
  rabbitmq:
    'The certificates changed: restart each node, one at a time (Erlang keeps the PEM files it read), for its listeners to use them.',
  emqx: 'The certificates changed: restart each node, one at a time (`emqx restart`), for its listeners to use them.',
}

function targetSteps(
  target: BrokerTarget,
  installDir: string,
  { rows, deleted, copied, merged }: { rows: readonly UserRow[]; deleted: readonly string[]; copied: ReadonlySet<string>; merged: boolean },
): string[] {
  const tokenImport = rows.some((row) => row.kind === 'token device' && row.change !== 'removed')
  if (target === 'mosquitto') {
    return [
      '`systemctl reload mosquitto` (or SIGHUP): mosquitto reads `passwords`, the ACL files and the CRL again. Connected token',
      'devices that are gone or whose key changed are disconnected; a certificate no longer granted keeps its connection but',
      'gets no topic, and a revoked one is refused at its next handshake.',
      ...(merged
        ? ['', 'A change to the listeners in `mosquitto.conf` takes effect only on a restart (`systemctl restart mosquitto`).']
        : []),
    ]
  }
  if (target === 'rabbitmq') {
    const steps = ['New handshakes read the CRL files (`crl/`) on every node as soon as they are copied.']
    // Users, permissions and topic permissions all live in the definitions: any change is imported.
    if (copied.has('definitions.json')) {
      steps.push(
        '',
        `On one node: ${code(`rabbitmqctl import_definitions ${posix.join(installDir, 'definitions.json')}`)} (adds and updates users and permissions).`,
      )
    }
    if (deleted.length > 0) {
      steps.push('', 'On one node, delete the users that are gone (an import never deletes):', '', '```sh')
      steps.push(...deleted.map((name) => `rabbitmqctl delete_user -- ${shellWord(name)}`), '```')
    }
    if (merged) steps.push('', 'A change to `rabbitmq.conf` or `advanced.config` takes effect when each node restarts, one at a time.')
    return steps
  }
  const api = 'http://HOST:18083/api/v5/authentication/password_based%3Abuilt_in_database'
  const steps = [
    "Serve the new `certs/crl.pem` at the CA's CRL distribution point URL; reload `acl.conf` if it is listed above (dashboard",
    'Access Control → Authorization → File → Update).',
  ]
  if (tokenImport) {
    steps.push('', 'From this folder, import the users (it overwrites those already there):', '', '```sh')
    steps.push(`curl -u KEY:SECRET -F filename=@users.json "${api}/import_users?type=hash"`, '```')
  }
  if (deleted.length > 0) {
    steps.push('', 'Delete the users that are gone (an import never deletes):', '', '```sh')
    steps.push(
      ...deleted.map((name) => `curl --path-as-is -u KEY:SECRET -X DELETE ${shellWord(`${api}/users/${urlSegment(name)}`)}`),
      '```',
    )
  }
  if (merged) steps.push('', 'A change to `emqx.conf` takes effect when each node restarts, one at a time.')
  return steps
}
