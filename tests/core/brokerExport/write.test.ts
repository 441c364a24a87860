// Writing an export into its folder: modes, and a failure midway that leaves no half export.
import { spawnSync } from 'node:child_process'
import { mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeBrokerExport } from '../../../src-main/core/brokerExport/write'
import { CertdeskError } from '../../../src-main/core/errors'
import { PROJECT_ROOT, temporaryFolder } from '../../helpers/tools'

const files = [
  { path: 'mosquitto.conf', contents: 'listener 8883\n', secret: false },
  { path: 'certs/server.key', contents: 'KEY\n', secret: true },
  { path: 'certs/deeper/crl.pem', contents: 'CRL\n', secret: false },
]

describe('writeBrokerExport', () => {
  it('writes secrets 0600, the rest 0644, folders 0700', async () => {
    const dir = join(await temporaryFolder('certdesk-write-export-'), 'out')
    await writeBrokerExport(dir, files)
    expect((await stat(join(dir, 'certs/server.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'mosquitto.conf'))).mode & 0o777).toBe(0o644)
    expect((await stat(join(dir, 'certs/deeper'))).mode & 0o777).toBe(0o700)
  })

  it('takes back what it wrote when a write fails midway, leaving a folder that was there empty', async () => {
    const dir = await temporaryFolder('certdesk-write-export-')
    await mkdir(join(dir, 'out'))
    // The same path twice: the second write meets the first file and is refused.
    const failing = [...files, { path: 'certs/server.key', contents: 'OTHER\n', secret: true }]
    const error = await writeBrokerExport(join(dir, 'out'), failing).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(CertdeskError)
    expect((error as CertdeskError).code).toBe('CONFLICT')
    expect(await readdir(join(dir, 'out'))).toEqual([])
  })

  it('takes back a file that a write left half done (the disk filled up), and the folders it made', async () => {
    const dir = await temporaryFolder('certdesk-write-export-')
    await mkdir(join(dir, 'out'))
    // 128 KiB per file at most: the 512 KiB file fails midway with EFBIG, as on a full disk.
    const writer = join(PROJECT_ROOT, 'tests/fixtures/brokerExport/writeExport.ts')
    const run = spawnSync('bash', ['-c', 'ulimit -f 128 && exec "$0" --import tsx "$1" "$2"', process.execPath, writer, join(dir, 'out')], {
      encoding: 'utf8',
      cwd: PROJECT_ROOT,
    })
    expect(run.status, run.stderr).toBe(0)
    const outcome = JSON.parse(run.stdout) as { code?: string; message?: string }
    expect(outcome.code, run.stdout).toBe('IO')
    expect(outcome.message).toMatch(/passwords/)
    expect(await readdir(join(dir, 'out'))).toEqual([])
  })
})
