// `certdesk export broker --only-changes-since DIR`: of a new export, only the files that differ
// from an earlier one for the same target, with CHANGES.md naming the users added, changed and
// removed and saying how to apply them (a broker's user import adds and updates, never deletes).
import { posix } from 'node:path'
import { emqxUsers } from './emqx'
import { mosquittoUsers } from './mosquitto'
import { rabbitmqUsers } from './rabbitmq'
import { BROKER_TARGET_NAMES, type BrokerExportFile, type BrokerTarget, DEFAULT_INSTALL_DIRS, byCodePoint } from './types'

export const CHANGES_FILE = 'CHANGES.md'

/** A file every export for the target has: an earlier folder without it is no such export. */
export const EXPORT_MARKER_FILES: Record<BrokerTarget, string> = {
  mosquitto: 'mosquitto.conf',
  rabbitmq: 'definitions.json',
  emqx: 'emqx.conf',
}

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

/** Each target's users in an export's files, with their stored credentials ('' for a certificate's login). */
export const EXPORTED_USERS: Record<BrokerTarget, (fileText: (path: string) => string | undefined) => Map<string, string>> = {
  mosquitto: mosquittoUsers,
  rabbitmq: rabbitmqUsers,
  emqx: emqxUsers,
}

export interface UserChanges {
  added: string[]
  changed: string[]
  removed: string[]
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

export const textOf = (files: ExportFolderFiles) => (path: string) => files.get(path)?.toString('utf8')

function userChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): UserChanges {
  const names = (keep: (name: string) => boolean, from: ReadonlyMap<string, string>) => [...from.keys()].filter(keep).sort(byCodePoint)
  return {
    added: names((name) => !before.has(name), after),
    changed: names((name) => before.has(name) && before.get(name) !== after.get(name), after),
    removed: names((name) => !after.has(name), before),
  }
}

export function changesSince(
  target: BrokerTarget,
  earlier: { dir: string; files: ExportFolderFiles },
  files: readonly BrokerExportFile[],
  installDir: string = DEFAULT_INSTALL_DIRS[target],
): BrokerExportChanges {
  const differs = (file: BrokerExportFile) => {
    const before = earlier.files.get(file.path)
    return before === undefined || !before.equals(Buffer.from(file.contents))
  }
  const changed = files.filter(differs)
  const paths = new Set(files.map((file) => file.path))
  const gone = [...earlier.files.keys()].filter((path) => !paths.has(path) && path !== CHANGES_FILE).sort(byCodePoint)
  const fileMap = new Map(files.map((file) => [file.path, Buffer.from(file.contents)]))
  const users = userChanges(EXPORTED_USERS[target](textOf(earlier.files)), EXPORTED_USERS[target](textOf(fileMap)))
  const text = changesReadme(target, earlier.dir, installDir, { changed, users, gone })
  return { files: [...changed, { path: CHANGES_FILE, contents: text, secret: false }], users, gone }
}

/** A word for the shell, in single quotes. */
const shellWord = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`
const code = (text: string) => `\`${text}\``

function changesReadme(
  target: BrokerTarget,
  earlierDir: string,
  installDir: string,
  { changed, users, gone }: { changed: readonly BrokerExportFile[]; users: UserChanges; gone: readonly string[] },
): string {
  const merged = changed.filter((file) => MERGED_FILES[target].includes(file.path)).map((file) => file.path)
  const copied = changed.filter((file) => !MERGED_FILES[target].includes(file.path) && file.path !== 'README.md').map((file) => file.path)
  const lines = [
    `# Changes for ${BROKER_TARGET_NAMES[target]} since the export in ${earlierDir}`,
    '',
    'This folder holds only the files of a new export that differ from that one. A token device whose key did not',
    'change keeps its hash (and salt), so a user listed as changed is one whose key did.',
    '',
    '## Users',
    '',
  ]
  const rows = [
    ...users.added.map((name) => [name, 'added']),
    ...users.changed.map((name) => [name, 'key changed']),
    ...users.removed.map((name) => [name, 'removed']),
  ].sort((a, b) => byCodePoint(a[0], b[0]))
  if (rows.length === 0) lines.push('No user was added, changed or removed.', '')
  else lines.push('| User | Change |', '| --- | --- |', ...rows.map(([name, change]) => `| ${cell(name)} | ${change} |`), '')
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
    `Then copy these files over ${code(earlierDir)} too, so that it stays the whole export to name in the next`,
    '`--only-changes-since`.',
    '',
    '## Apply',
    '',
    ...applySteps(target, installDir, users, new Set(copied)),
    '',
  )
  return lines.join('\n')
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function applySteps(target: BrokerTarget, installDir: string, users: UserChanges, copied: ReadonlySet<string>): string[] {
  if (target === 'mosquitto') {
    return [
      '`systemctl reload mosquitto` (or SIGHUP): mosquitto reads `passwords`, the ACL files and the CRL again. Connected token',
      'devices that are gone or whose key changed are disconnected; a certificate no longer granted keeps its connection but',
      'gets no topic, and a revoked one is refused at its next handshake.',
    ]
  }
  if (target === 'rabbitmq') {
    const steps = ['New handshakes read the CRL files (`crl/`) on every node as soon as they are copied.']
    if (copied.has('definitions.json') && users.added.length + users.changed.length > 0) {
      steps.push(
        '',
        `On one node: ${code(`rabbitmqctl import_definitions ${posix.join(installDir, 'definitions.json')}`)} (adds and updates users).`,
      )
    }
    if (users.removed.length > 0) {
      steps.push('', 'On one node, delete the users that are gone (an import never deletes):', '', '```sh')
      steps.push(...users.removed.map((name) => `rabbitmqctl delete_user ${shellWord(name)}`), '```')
    }
    return steps
  }
  const api = 'http://HOST:18083/api/v5/authentication/password_based%3Abuilt_in_database'
  const steps = [
    "Serve the new `certs/crl.pem` at the CA's CRL distribution point URL; reload `acl.conf` if it is listed above (dashboard",
    'Access Control → Authorization → File → Update).',
  ]
  if (users.added.length + users.changed.length > 0) {
    steps.push('', 'Import the users (it overwrites those already there):', '', '```sh')
    steps.push(`curl -u KEY:SECRET -F filename=@users.json "${api}/import_users?type=hash"`, '```')
  }
  if (users.removed.length > 0) {
    steps.push('', 'Delete the users that are gone (an import never deletes):', '', '```sh')
    steps.push(
      ...users.removed.map((name) => `curl -u KEY:SECRET -X DELETE ${shellWord(`${api}/users/${encodeURIComponent(name)}`)}`),
      '```',
    )
  }
  return steps
}
