import { spawn } from 'node:child_process'
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { connect, makeFleet, runBroker } from '../helpers/fleet'
import { PROJECT_ROOT, command, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

let folder: string
let dataDir: string
let certificateId: string

/** Runs certdesk and keeps stdout as bytes (a zip on standard output). */
function runForBytes(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/certdesk.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(chunks), stderr }))
  })
}

beforeAll(async () => {
  folder = await temporaryFolder('certdesk-exports-')
  dataDir = join(folder, 'data')
  await runCertdeskJson(['--data', dataDir, 'ca', 'init', '--key-type', 'ec-p256'])
  certificateId = (await runCertdeskJson<{ id: string }>(['--data', dataDir, 'cert', 'create', '--name', 'Export me'])).id
})

describe('export targets', () => {
  it('--force replaces only regular files: never a pipe, a link or a folder', async () => {
    const fifo = join(folder, 'a-pipe')
    await command('mkfifo', [fifo])
    const target = join(folder, 'kept.txt')
    await writeFile(target, 'kept')
    const link = join(folder, 'a-link')
    await symlink(target, link)
    const directory = join(folder, 'a-folder')
    await mkdir(directory)
    for (const [path, kind] of [
      [fifo, 'a device, pipe or socket'],
      [link, 'a symbolic link'],
      [directory, 'a folder'],
    ]) {
      const result = await runCertdesk(['--data', dataDir, 'cert', 'export', certificateId, '--out', path, '--force'])
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(`certdesk: ${path} is ${kind}, not a regular file; give the path of a file to write.\n`)
    }
    expect((await lstat(fifo)).isFIFO()).toBe(true)
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
    expect(await readFile(target, 'utf8')).toBe('kept')
    // A regular file is replaced with --force, and only then.
    expect((await runCertdesk(['--data', dataDir, 'cert', 'export', certificateId, '--out', target])).code).toBe(1)
    expect((await runCertdesk(['--data', dataDir, 'cert', 'export', certificateId, '--out', target, '--force'])).code).toBe(0)
    expect((await readFile(target)).subarray(0, 2).toString()).toBe('PK')
  })

  it('a missing folder is named in one sentence', async () => {
    const result = await runCertdesk(['--data', dataDir, 'ca', 'export', '--out', join(folder, 'nowhere', 'root_ca.crt')])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`certdesk: The folder ${join(folder, 'nowhere')} does not exist.\n`)
  })

  it('--out - writes the file to standard output and the report to stderr', async () => {
    const pem = await runCertdesk(['--data', dataDir, 'ca', 'export', '--out', '-'])
    expect(pem.code).toBe(0)
    expect(pem.stdout).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/)
    expect(pem.stderr).toMatch(/^Wrote the file to standard output/)
    const zip = await runForBytes(['--data', dataDir, 'cert', 'export', certificateId, '--out', '-'])
    expect(zip.code).toBe(0)
    await writeFile(join(folder, 'piped.zip'), zip.stdout)
    expect(await command('unzip', ['-Z1', join(folder, 'piped.zip')])).toBe(
      'common_certs/common.crt\ncommon_certs/common.key\ncommon_certs/root_ca.crt\n',
    )
  })
})

describe('human output', () => {
  it('shows the control characters of a hostile client id escaped, so it cannot forge a log line', async () => {
    const fleet = await makeFleet()
    const broker = await runBroker(fleet.workspace)
    const forged = 'x\r\u001b[2K2026-11-29T00:00:00Z one-way accepted token-device-01\u009b'
    await expect(connect(broker.oneWay.port, { clientId: forged, username: 'u', password: 'p', ca: fleet.rootPem })).rejects.toThrow()
    await broker.close()
    const log = await runCertdesk(['--data', fleet.workspace.dataDir, 'broker', 'log'])
    expect(log.code).toBe(0)
    // eslint-disable-next-line no-control-regex
    expect(log.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/)
    expect(log.stdout).toContain('x\\x0d\\x1b[2K2026-11-29T00:00:00Z one-way accepted token-device-01\\x9b')
    // JSON keeps the id exactly, escaped by JSON itself.
    const entries = await runCertdeskJson<{ clientId: string }[]>(['--data', fleet.workspace.dataDir, 'broker', 'log'])
    expect(entries.map((entry) => entry.clientId)).toContain(forged)
  })
})
