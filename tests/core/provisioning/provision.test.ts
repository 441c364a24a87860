import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { isCertdeskError } from '../../../src-main/core/errors'
import { Workspace } from '../../../src-main/core/workspace'
import { folderSnapshot } from '../../helpers/cliChecks'
import { temporaryFolder } from '../../helpers/tools'
import { editStoredRecord, storedRecords } from '../../helpers/storedRegistry'

let workspace: Workspace
let dataDir: string

beforeEach(async () => {
  dataDir = join(await temporaryFolder('certdesk-provisioning-'), 'data')
  workspace = await Workspace.initialise(dataDir, { keyType: 'ec-p256' })
})

const linesOf = (text: string, options = {}) =>
  workspace.previewProvisioning(text, options).problems.map((problem) => [problem.line, problem.messageKey])

async function refusal(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    if (isCertdeskError(error)) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('checking a provisioning file', () => {
  it('names every problem with its line, reusing the registry’s own refusals', async () => {
    await workspace.createDevice({ name: 'Twin', authType: 'cert' })
    await workspace.createDevice({ name: 'Twin', authType: 'cert' })
    const revoked = await workspace.issueDeviceCertificate({ name: 'Old' })
    await workspace.revokeCertificate(revoked.id, 'keyCompromise')
    const text = [
      'Name,Device ID,auth,certificate',
      'Ok,device-0001,cert,',
      'Bad id,-bad,cert,',
      'Token with cert,device-0002,token,Old',
      'Revoked,device-0003,cert,Old',
      'Unknown,device-0004,cert,Nope',
      'Again,device-0001,cert,',
      'Twin,,cert,',
      'Spoof\u202eed,device-0005,cert,',
      'Kind,device-0006,mqtt,',
      'Same,,cert,',
      'Same,,token,',
    ].join('\r\n')
    expect(linesOf(text)).toEqual([
      [3, 'validation.deviceIdInvalid'],
      [4, 'provisioning.certificateOnToken'],
      [5, 'certificate.revokedNoBind'],
      [6, 'certificate.notFound'],
      [7, 'provisioning.duplicateDeviceId'],
      [8, 'provisioning.ambiguousName'],
      [9, 'name.deviceUnsafe'],
      [10, 'device.unknownAuthType'],
      [12, 'provisioning.nameTwiceWithoutId'],
    ])
    const refused = await refusal(workspace.provision(text))
    expect(refused.code).toBe('INVALID_INPUT')
    expect(refused.message).toMatch(/^The file has 9 problem\(s\) and nothing was written; the first, on line 3: /)
  })

  it('refuses a certificate named by a common name that a renewal shares, and an expired one', async () => {
    const old = await workspace.issueDeviceCertificate({ name: 'Shared', days: 1 })
    const renewed = await workspace.renewCertificate(old.id, { days: 30 })
    // Both certificates now have the same common name: which one is meant cannot be told.
    expect(renewed.cn).toBe(old.cn)
    const text = ['name,device_id,auth,certificate', `By cn,device-0101,cert,${old.cn}`, `By name,device-0102,cert,${renewed.name}`].join(
      '\n',
    )
    expect(linesOf(text)).toEqual([[2, 'provisioning.certificateAmbiguous']])
    // An expired one: its validity moved into the past in the index, as time would.
    const expired = await workspace.issueDeviceCertificate({ name: 'Expired' })
    editStoredRecord(dataDir, 'certificates', expired.id, (record) => (record.notAfter = '2020-01-01T00:00:00.000Z'))
    const reopened = await Workspace.open(dataDir)
    const problems = reopened.previewProvisioning(['name,device_id,auth,certificate', 'Late,device-0103,cert,Expired'].join('\n')).problems
    expect(problems.map((problem) => [problem.line, problem.messageKey])).toEqual([[2, 'provisioning.certificateExpired']])
    expect(problems[0].message).toBe(
      'Certificate "Expired" expired on 2020-01-01; a device cannot use it. Name another one, or leave the column empty for a new one.',
    )
  })

  it('checks the header: required and unknown columns, line 1; an unknown profile is line 0', () => {
    expect(linesOf('name,colour\nA,red\n')).toEqual([
      [1, 'provisioning.unknownColumn'],
      [1, 'provisioning.missingColumn'],
    ])
    expect(linesOf('name,auth\nA,cert\n', { profile: 'nope' })).toEqual([[0, 'profile.notFound']])
    expect(linesOf('')).toEqual([[1, 'provisioning.noRows']])
    expect(linesOf('name,auth\n"unterminated,cert\n')[0]).toEqual([2, 'provisioning.unreadable'])
  })

  it('counts lines as the file has them: quoted fields over several lines, blank lines, short rows', () => {
    const plan = workspace.previewProvisioning('name,auth,device_id\n"Two\nlines",cert,device-0001\n\nShort,token\n')
    expect(plan.problems.map((problem) => problem.line)).toEqual([3])
    expect(plan.problems[0].messageKey).toBe('name.deviceUnsafe')
    expect(plan.rows.map((row) => row.line)).toEqual([5])
  })

  it('reads the semicolons and tabs that spreadsheets write, decided by the header', () => {
    const semicolons = workspace.previewProvisioning('\ufeffname;device_id;auth\r\nPump, north;pump-0000001;cert\r\n')
    expect(semicolons.problems).toEqual([])
    expect(semicolons.rows[0]).toMatchObject({ name: 'Pump, north', deviceId: 'pump-0000001', authType: 'cert' })
    const tabs = workspace.previewProvisioning('name\tauth\nPump; south\ttoken\n')
    expect(tabs.rows[0]).toMatchObject({ name: 'Pump; south', authType: 'token' })
  })

  it('reads JSON lines with their line numbers', () => {
    const plan = workspace.previewProvisioning(
      ['{"name":"A","auth":"cert","device_id":"device-0001"}', '', 'not json', '[1]', '{"name":"B","auth":"token","colour":1}'].join('\n'),
      { format: 'jsonl' },
    )
    expect(plan.problems.map((problem) => [problem.line, problem.messageKey])).toEqual([
      [3, 'provisioning.jsonInvalid'],
      [4, 'provisioning.notObject'],
      [5, 'provisioning.unknownColumn'],
    ])
  })
})

describe('provisioning', () => {
  it('creates devices, certificates bound to them and bindings to existing certificates in one write', async () => {
    const shared = await workspace.issueDeviceCertificate({ name: 'Shared gateway' })
    const result = await workspace.provision(
      [
        'name,device_id,username,auth,certificate',
        'Pump,pump-0000001,pump-user,cert,',
        'Gauge,gauge-000001,,token,',
        'Gateway,gw-00000001,,cert,shared gateway',
        'Generated,,,cert,',
      ].join('\n'),
    )
    expect(result.counts).toMatchObject({ create: 4, certificates: 2, bindings: 1 })
    const pump = workspace.getDevice('pump-0000001')
    expect(pump).toMatchObject({ username: 'pump-user', authType: 'cert' })
    expect(workspace.getCertificate(pump.certificateIds[0])).toMatchObject({ name: 'pump-0000001', boundDeviceIds: ['pump-0000001'] })
    expect(workspace.getCertificate(shared.id).boundDeviceIds).toEqual(['gw-00000001'])
    const generated = result.rows[3]
    expect(generated.deviceId).toMatch(/^[A-Za-z0-9_-]{8,36}$/)
    expect(workspace.getDevice(generated.deviceId).certificateIds).toHaveLength(1)
    expect(result.bundles.map((bundle) => bundle.deviceId)).toEqual(['pump-0000001', 'gw-00000001', generated.deviceId])
    expect(result.deviceKeys.map((entry) => entry.deviceId)).toEqual(['gauge-000001'])
    expect(await workspace.revealDeviceKey('gauge-000001')).toBe(result.deviceKeys[0].deviceKey)
    // One audit entry for the whole run.
    expect(workspace.getAuditLog().entries.filter((entry) => entry.action === 'provisioning.run')).toHaveLength(1)
    // A row without device_id is matched by name on the next run: not duplicated.
    const again = workspace.previewProvisioning('name,auth\nGenerated,cert\n')
    expect(again.rows[0]).toMatchObject({ action: 'skip', deviceId: generated.deviceId })
  })

  it('issues with the profile: the device ID as common name', async () => {
    await workspace.createProfile({ name: 'by-device', commonName: 'deviceId' })
    const result = await workspace.provision('name,device_id,auth\nMeter,meter-000001,cert\n', { profile: 'by-device' })
    const certificate = workspace.getCertificate(result.rows[0].certificateId as string)
    expect(certificate).toMatchObject({ cn: 'meter-000001', profile: 'by-device' })
    expect(new X509Certificate(result.bundles[0].certificatePem).subject).toContain('CN=meter-000001')
  })

  it('skips existing devices, or updates name and authentication with update, by the device rules', async () => {
    await workspace.provision('name,device_id,auth\nOne,device-0001,token\nTwo,device-0002,cert\n')
    const skipped = await workspace.provision('name,device_id,auth\nOne renamed,device-0001,cert\n')
    expect(skipped.counts).toMatchObject({ skip: 1, create: 0 })
    expect(workspace.getDevice('device-0001').name).toBe('One')
    const updated = await workspace.provision('name,device_id,auth\nOne renamed,device-0001,cert\n', { update: true })
    expect(updated.counts).toMatchObject({ update: 1, certificates: 1 })
    expect(workspace.getDevice('device-0001')).toMatchObject({ name: 'One renamed', authType: 'cert' })
    expect(workspace.getDevice('device-0001').certificateIds).toHaveLength(1)
    // A bound device stays cert: the same refusal as `device update`, with its line.
    expect(linesOf('name,device_id,auth\nTwo,device-0002,token\n', { update: true })).toEqual([[2, 'device.boundBeforeToken']])
  })

  it('writes nothing when the registry changed under it (all or nothing), and leaves no staged files', async () => {
    const before = await folderSnapshot(dataDir)
    const refused = await refusal(
      workspace.provision('name,device_id,auth\nA,device-0001,cert\nB,device-0002,cert\n', { signal: AbortSignal.abort() }),
    )
    expect(refused.code).toBe('CANCELLED')
    expect(await folderSnapshot(dataDir)).toEqual(before)

    const other = await Workspace.open(dataDir)
    let raced = false
    // Enough certificates that the other writer is done long before they are.
    const many = Array.from({ length: 200 }, (_, index) => `Valve ${index},valve-${String(index).padStart(4, '0')},cert`)
    const conflict = await refusal(
      workspace.provision(['name,device_id,auth', 'A,device-0001,cert', 'B,device-0002,cert', ...many].join('\n'), {
        onProgress: (progress) => {
          // Another writer takes device-0002 while the certificates are made.
          if (progress.phase === 'issuing' && !raced) {
            raced = true
            void other.createDevice({ name: 'Taken', authType: 'cert', deviceId: 'device-0002' })
          }
        },
      }),
    )
    expect(conflict.messageKey).toBe('device.idTaken')
    expect(workspace.listDevices().map((device) => device.deviceId)).toEqual(['device-0002'])
    expect(workspace.listCertificates()).toEqual([])
    // No record of the refused run was written: the root CA's is the only one.
    expect(Object.keys(storedRecords(dataDir))).toEqual(['root-ca'])
  })
})
