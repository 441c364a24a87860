import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../../src-main/core/store/schema'
import { Workspace } from '../../../src-main/core/workspace'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../../helpers/tools'

const logLines = async (dataDir: string) => (await readFile(join(dataDir, 'audit.jsonl'), 'utf8')).trimEnd().split('\n')

describe('the audit log', () => {
  it('records every change with who made it, hash-chained, and verifies', async () => {
    const dataDir = join(await temporaryFolder('certdesk-audit-'), 'data')
    await runCertdeskJson(['--data', dataDir, 'ca', 'init', '--key-type', 'ec-p256'])
    const device = await runCertdeskJson<{ deviceId: string }>([
      '--data',
      dataDir,
      'device',
      'create',
      '--name',
      'Pump',
      '--auth',
      'cert',
      '--device-id',
      'pump-0001',
    ])
    const certificate = await runCertdeskJson<{ id: string }>(['--data', dataDir, 'cert', 'create', '--name', 'Pump cert'])
    await runCertdeskJson(['--data', dataDir, 'cert', 'bind', certificate.id, device.deviceId])
    await runCertdeskJson(['--data', dataDir, 'cert', 'export', certificate.id, '--out', join(dataDir, '..', 'pump.zip')])
    // A change from the page in browser mode, through the same core.
    const browser = await Workspace.open(dataDir, { actor: 'browser' })
    await browser.updateCertificate(certificate.id, { enabled: false })
    // A refused change writes nothing.
    await expect(browser.deleteCertificate(certificate.id)).rejects.toThrow(/bound/)

    const entries = await runCertdeskJson<AuditEntry[]>(['--data', dataDir, 'audit'])
    expect(entries.map((e) => [e.seq, e.actor, e.action, e.target])).toEqual([
      [1, 'cli', 'ca.init', 'CN=Certdesk Root CA'],
      [2, 'cli', 'device.create', 'pump-0001'],
      [3, 'cli', 'certificate.issue', certificate.id],
      [4, 'cli', 'binding.add', certificate.id],
      [5, 'cli', 'certificate.export', certificate.id],
      [6, 'browser', 'certificate.update', certificate.id],
    ])
    expect(entries[3].detail).toEqual({ devices: ['pump-0001'] })
    expect(entries[5].detail).toEqual({ enabled: false })
    expect(entries.every((e) => e.user.length > 0 && !Number.isNaN(Date.parse(e.time)))).toBe(true)
    const verified = await runCertdesk(['--data', dataDir, 'audit', '--verify'])
    expect(verified.code).toBe(0)
    expect(verified.stdout).toBe('The audit log is intact: 6 entries, ending where the registry says it ends.\n')
  })

  it('a batch export is one entry naming what was delivered; a refused delivery records nothing', async () => {
    const dataDir = join(await temporaryFolder('certdesk-audit-'), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    const certificates = await workspace.issueDeviceCertificates(Array.from({ length: 12 }, (_, i) => ({ name: `batch ${i}` })))
    const ids = certificates.map((certificate) => certificate.id)
    const zips: Buffer[] = []
    // The last one is not delivered (a cancelled save, say).
    await workspace.exportDeviceBundles(ids, async (id, zip) => {
      zips.push(zip)
      return id !== ids.at(-1)
    })
    expect(zips).toHaveLength(12)
    await workspace.exportDeviceBundle(ids[0], async () => false)
    const entries = workspace.getAuditLog().entries
    expect(entries.map((entry) => entry.action)).toEqual(['ca.init', 'certificate.issue', 'certificate.export'])
    expect(entries[2].target).toBe(`11 certificates, ${ids[0]} … ${ids[10]}`)
    expect(entries[2].detail).toEqual({ ids: ids.slice(0, 11) })
  })

  it('detects an edited entry, a removed one, and removals at the end', async () => {
    const dataDir = join(await temporaryFolder('certdesk-audit-'), 'data')
    const workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
    for (const name of ['a', 'b', 'c']) await workspace.createDevice({ name, authType: 'token' })
    const original = await logLines(dataDir)
    expect(original).toHaveLength(4)
    const verify = () => runCertdesk(['--data', dataDir, 'audit', '--verify'])

    const edited = [...original]
    edited[2] = edited[2].replace('"device.create"', '"device.delete"')
    await writeFile(join(dataDir, 'audit.jsonl'), `${edited.join('\n')}\n`)
    let result = await verify()
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('- Entry 3 (line 3) was edited: its hash does not match its content.')

    await writeFile(join(dataDir, 'audit.jsonl'), `${[original[0], original[1], original[3]].join('\n')}\n`)
    result = await verify()
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('- Entries 3 to 3 are missing before line 3.')

    await writeFile(join(dataDir, 'audit.jsonl'), `${original.slice(0, 3).join('\n')}\n`)
    result = await verify()
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('- The log ends at entry 3, but the registry recorded 4 entries: the latest were removed.')

    // Put back, it verifies again; and the next change continues the chain.
    await writeFile(join(dataDir, 'audit.jsonl'), `${original.join('\n')}\n`)
    await workspace.deleteDevice((await workspace.listDevices())[0].id)
    expect(workspace.getAuditLog().verification).toEqual({ intact: true, entries: 5, problems: [] })
  })
})
