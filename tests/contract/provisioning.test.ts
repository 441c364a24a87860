import { join } from 'node:path'
import AdmZip from 'adm-zip'
import { beforeAll, describe, expect, it } from 'vitest'
import { contentsOf, createDispatcher, implementApi } from '../../src-main/contract/dispatch'
import type { CertdeskEvent, Envelope, ProvisioningOutcome, ProvisioningPlan } from '../../src-main/contract/types'
import { Workspace } from '../../src-main/core/workspace'
import { headlessFrontDoor } from '../helpers/frontDoor'
import { temporaryFolder } from '../helpers/tools'

let workspace: Workspace

beforeAll(async () => {
  workspace = await Workspace.initialise(join(await temporaryFolder('certdesk-contract-provisioning-'), 'data'), { keyType: 'ec-p256' })
})

const value = <T>(envelope: Envelope) => {
  if (!envelope.ok) throw new Error(envelope.error)
  return envelope.value as T
}

const CSV = ['name,device_id,auth', 'Pump 1,pump-00000001,cert', 'Pump 2,pump-00000002,cert', 'Gauge,gauge-0000001,token'].join('\n')

describe('provisioning through the contract', () => {
  it('previews problems by line and writes nothing', async () => {
    const dispatch = createDispatcher(implementApi(workspace, headlessFrontDoor()))
    const plan = value<ProvisioningPlan>(
      await dispatch('previewProvisioning', ['name,auth,certificate\nA,cert,\n,token,\nB,carrier,\nC,token,nope\n', {}]),
    )
    expect(plan.problems.map((problem) => [problem.line, problem.messageKey])).toEqual([
      [3, 'name.deviceEmpty'],
      [4, 'device.unknownAuthType'],
      [5, 'provisioning.certificateOnToken'],
    ])
    expect(plan.counts).toMatchObject({ rows: 4, create: 1, certificates: 1 })
    expect(workspace.listDevices()).toEqual([])
    // The schema refuses what the declaration does not name.
    expect(await dispatch('previewProvisioning', [CSV, { format: 'xml' }])).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
  })

  it('provisions, reports progress as events and saves one zip of bundles and the manifest', async () => {
    const events: CertdeskEvent[] = []
    const saved: { name: string; data: Buffer; mode: number }[] = []
    const dispatch = createDispatcher(
      implementApi(workspace, {
        ...headlessFrontDoor(),
        emit: (event) => events.push(event),
        saveFile: async (name, data, mode) => {
          saved.push({ name, data: Buffer.from(await contentsOf(data)), mode })
          return { saved: true, location: `/tmp/${name}` }
        },
      }),
    )
    const outcome = value<ProvisioningOutcome>(await dispatch('provisionDevices', [CSV, { includeDeviceKeys: true }]))
    expect(outcome).toMatchObject({ saved: true, counts: { create: 3, certificates: 2 } })
    expect(outcome.rows.map((row) => [row.deviceId, row.certificateName ?? null])).toEqual([
      ['pump-00000001', 'pump-00000001'],
      ['pump-00000002', 'pump-00000002'],
      ['gauge-0000001', null],
    ])
    expect(saved).toHaveLength(1)
    expect(saved[0].mode).toBe(0o600)
    const entries = new AdmZip(saved[0].data).getEntries().map((entry) => entry.entryName)
    expect(entries.sort()).toEqual(['device-keys.csv', 'manifest.csv', 'pump-00000001.zip', 'pump-00000002.zip'])
    const phases = events.filter((event) => event.type === 'provisioning').map((event) => event.phase)
    expect(phases[0]).toBe('checking')
    expect(phases).toContain('issuing')
    expect(phases.at(-1)).toBe('done')
    expect(workspace.getDevice('pump-00000001').certificateIds).toHaveLength(1)
    // Run again: every row is skipped, nothing is duplicated.
    const again = value<ProvisioningOutcome>(await dispatch('provisionDevices', [CSV, {}]))
    expect(again.counts).toMatchObject({ create: 0, skip: 3 })
    expect(workspace.listDevices()).toHaveLength(3)
  })

  it('offers the result again when its save dialog was cancelled, until it is saved', async () => {
    const answers = [false, true]
    const saved: Buffer[] = []
    const dispatch = createDispatcher(
      implementApi(workspace, {
        ...headlessFrontDoor(),
        saveFile: async (_name, data) => {
          const answer = answers.shift() ?? false
          if (answer) saved.push(Buffer.from(await contentsOf(data)))
          return answer ? { saved: true, location: '/tmp/result.zip' } : { saved: false }
        },
      }),
    )
    expect(await dispatch('saveProvisioningResult', [])).toMatchObject({ ok: false, code: 'NOT_FOUND' })
    const outcome = value<ProvisioningOutcome>(await dispatch('provisionDevices', ['name,device_id,auth\nTap,tap-00000001,cert\n', {}]))
    expect(outcome).toMatchObject({ saved: false, counts: { create: 1 } })
    expect(value(await dispatch('saveProvisioningResult', []))).toEqual({ saved: true, location: '/tmp/result.zip' })
    expect(new AdmZip(saved[0]).getEntries().map((entry) => entry.entryName)).toContain('tap-00000001.zip')
    expect(await dispatch('saveProvisioningResult', [])).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
      messageKey: 'provisioning.nothingToSave',
    })
  })

  it('cancels a run before its write: nothing is written, CANCELLED', async () => {
    const late: { dispatch?: ReturnType<typeof createDispatcher> } = {}
    let cancelled = false
    const dispatch = createDispatcher(
      implementApi(workspace, {
        ...headlessFrontDoor(),
        emit: (event) => {
          if (event.type === 'provisioning' && event.phase === 'issuing' && !cancelled) {
            cancelled = true
            void late.dispatch?.('cancelProvisioning', [])
          }
        },
      }),
    )
    late.dispatch = dispatch
    const lines = ['name,auth', ...Array.from({ length: 40 }, (_, index) => `Valve ${index},cert`)]
    const before = workspace.listDevices().length
    expect(await dispatch('provisionDevices', [lines.join('\n'), {}])).toMatchObject({
      ok: false,
      code: 'CANCELLED',
      messageKey: 'provisioning.cancelled',
    })
    expect(workspace.listDevices()).toHaveLength(before)
    expect(value(await dispatch('cancelProvisioning', []))).toBe(false)
  })
})
