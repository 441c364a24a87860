import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT, temporaryFolder } from '../helpers/tools'

const CLI = join(PROJECT_ROOT, 'bin/certdesk.mjs')

/**
 * Runs a shell script in a private mount namespace (unshare: a real, tiny tmpfs the script can fill
 * and remount read-only, without touching this machine's mounts). Each `run` line prints the
 * command's stderr and exit code between markers.
 */
function inTinyFileSystem(folder: string, steps: string): string {
  const script = `
set -u
D='${folder}'
mount -t tmpfs -o size=512k tmpfs "$D"
run() { echo "<<$*"; node '${CLI}' --data "$D/data" "$@" 2>&1 >/dev/null; echo ">>exit=$?"; }
${steps}`
  const result = spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000 })
  if (result.error) throw result.error
  return result.stdout + result.stderr
}

/** The stderr and exit code `run` printed for one command. */
function outcome(output: string, command: string): { stderr: string; exit: number } {
  const match = new RegExp(`<<${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n([\\s\\S]*?)>>exit=(\\d+)`).exec(output)
  if (!match) throw new Error(`no outcome for "${command}" in:\n${output}`)
  return { stderr: match[1].trim(), exit: Number(match[2]) }
}

describe('a full disk and a read-only file system', () => {
  it('are one sentence and exit 1, and leave the folder, its index and its audit log as they were', async () => {
    const folder = await temporaryFolder('certdesk-disk-')
    const output = inTinyFileSystem(
      folder,
      `
run ca init --key-type ec-p256
run device create --name first --auth token
cp "$D/data/config.json" /dev/shm/certdesk-index-before-$$ ; cp "$D/data/audit.jsonl" /dev/shm/certdesk-audit-before-$$
(cd "$D/data/tables" && find . -type f | sort | xargs sha256sum) > /dev/shm/certdesk-tables-before-$$
# The index backup is replaced on every write, which frees its space: fill that too.
rm "$D/data/config.json.bak"
dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null; dd if=/dev/zero of="$D/filler2" bs=1 2>/dev/null
run device create --name second --auth token
run cert create --name full
cmp -s "$D/data/config.json" /dev/shm/certdesk-index-before-$$ && echo INDEX-UNCHANGED
cmp -s "$D/data/audit.jsonl" /dev/shm/certdesk-audit-before-$$ && echo AUDIT-UNCHANGED
(cd "$D/data/tables" && find . -type f | sort | xargs sha256sum) | cmp -s - /dev/shm/certdesk-tables-before-$$ && echo TABLES-UNCHANGED
rm -f /dev/shm/certdesk-*-before-$$
find "$D/data" -name '*.tmp*' -o -name '.staging-*' | sed 's/^/LEFTOVER /'
rm "$D/filler" "$D/filler2"; mount -o remount,ro "$D"
run device create --name third --auth token
run device list
`,
    )
    expect(outcome(output, 'ca init --key-type ec-p256').exit).toBe(0)
    const full = outcome(output, 'device create --name second --auth token')
    expect(full.exit).toBe(1)
    // The first file of the change that does not fit: a table's bucket (schema 3), before the head.
    expect(full.stderr).toMatch(
      new RegExp(
        `^certdesk: The disk is full, so ${folder}/data/tables/(devices|keys)/[0-9a-f]{2}\\.\\d+\\.json was not written; nothing was changed\\.$`,
      ),
    )
    const fullCertificate = outcome(output, 'cert create --name full')
    expect(fullCertificate.exit).toBe(1)
    expect(fullCertificate.stderr).toMatch(
      new RegExp(
        `^certdesk: The disk is full, so ${folder}/data/tables/(certificates|keys|records)/[0-9a-f]{2}\\.\\d+\\.json was not written; nothing was changed\\.$`,
      ),
    )
    expect(output).toContain('INDEX-UNCHANGED')
    expect(output).toContain('AUDIT-UNCHANGED')
    expect(output).toContain('TABLES-UNCHANGED')
    expect(output).not.toContain('LEFTOVER')
    const readOnly = outcome(output, 'device create --name third --auth token')
    expect(readOnly.exit).toBe(1)
    expect(readOnly.stderr).toBe(`certdesk: Certdesk cannot write in ${folder}/data (read-only file system).`)
    // Reading still works on a read-only folder.
    expect(outcome(output, 'device list').exit).toBe(0)
  })
})
