import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkDataFolder } from '../../../src-main/core/store/doctor'
import { RegistryStore } from '../../../src-main/core/store/registryStore'
import { Workspace } from '../../../src-main/core/workspace'
import { PROJECT_ROOT, temporaryFolder } from '../../helpers/tools'
import { storedRecords } from '../../helpers/storedRegistry'

const WRITER = join(PROJECT_ROOT, 'tests/fixtures/crash/batchWriter.ts')
const RUNS = 8

/** Starts the writer, lets it run for `ms` after it is ready, then kills it with SIGKILL. */
function writeThenKill(dataDir: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), ms))
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))))
  })
}

describe('kill -9 in the middle of batch writes', () => {
  it(`leaves the folder consistent and clean, ${RUNS} times at random moments`, async () => {
    const dataDir = join(await temporaryFolder('certdesk-crash-'), 'data')
    await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    for (let run = 0; run < RUNS; run++) {
      // The moment is random; a failure names it, to be tried again at that moment.
      const killAfterMs = 50 + Math.floor(Math.random() * 900)
      await writeThenKill(dataDir, killAfterMs)
      // The next process opens the folder, sweeps what the killed one left, and writes at once.
      const workspace = await Workspace.open(dataDir)
      await workspace.createDevice({ name: `after crash ${run}`, authType: 'token' })
      expect(existsSync(join(dataDir, '.lock')), `killed after ${killAfterMs} ms`).toBe(false)
      const report = await checkDataFolder(dataDir)
      expect(
        report.findings.filter((f) => f.status !== 'ok'),
        `killed after ${killAfterMs} ms: ${JSON.stringify(report.findings)}`,
      ).toEqual([])
      // The audit log's chain survives the kill, and the next change continues it.
      expect(workspace.getAuditLog().verification).toMatchObject({ intact: true, problems: [] })
      // Every certificate the index names has its file, holding that very certificate.
      const data = workspace.snapshot()
      const records = storedRecords(dataDir)
      for (const certificate of data.certificates.all()) {
        expect(new X509Certificate(records[certificate.id].certificatePem).fingerprint256).toBe(certificate.fingerprint256)
      }
      // And nothing else: no record the index does not name.
      expect(
        Object.keys(records)
          .filter((id) => id !== 'root-ca')
          .sort(),
      ).toEqual(
        data.certificates
          .all()
          .map((certificate) => certificate.id)
          .sort(),
      )
      expect((await readdir(dataDir)).filter((name) => name.includes('.tmp'))).toEqual([])
      // No table file that the head does not name (a killed commit's new or old buckets).
      expect((await RegistryStore.open(dataDir)).unnamedTableFiles()).toEqual([])
    }
    expect((await Workspace.open(dataDir)).snapshot().certificates.all().length).toBeGreaterThan(0)
  })
})
