import { describe, expect, it } from 'vitest'
import { createDispatcher, implementApi } from '../../../src-main/contract/dispatch'
import { makeFleet } from '../../helpers/fleet'
import { runCertdesk } from '../../helpers/tools'
import { codeOf } from '../../helpers/errors'
import { headlessFrontDoor } from '../../helpers/frontDoor'
import { registryContents } from '../../helpers/registryContents'

/** Names of Object.prototype's members: each once resolved to a built-in in a plain-object table. */
const BUILT_IN_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']

describe('ids that are names of built-ins', () => {
  it('resolve to nothing, in every lookup, and pollute nothing', async () => {
    const { workspace, certificate } = await makeFleet()
    for (const id of BUILT_IN_NAMES) {
      expect(() => workspace.getCertificate(id)).toThrow(/There is no certificate/)
      expect(() => workspace.getDevice(id)).toThrow(/There is no device/)
      expect(await codeOf(workspace.updateCertificate(id, { name: 'polluted', enabled: false }))).toBe('NOT_FOUND')
      expect(await codeOf(workspace.deleteDevice(id))).toBe('NOT_FOUND')
      expect(await codeOf(workspace.bindDevices(certificate.id, [id]))).toBe('NOT_FOUND')
      expect(await codeOf(workspace.deleteTesterProfile(id))).toBe('NOT_FOUND')
    }
    expect(({} as Record<string, unknown>).name).toBeUndefined()
    expect(({} as Record<string, unknown>).enabled).toBeUndefined()
    expect(workspace.snapshot().bindings.all().length).toBe(1)
  })

  it('are refused as device IDs and usernames (the broker keys its clients by id)', async () => {
    const { workspace } = await makeFleet()
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty', 'isPrototypeOf']) {
      await expect(workspace.createDevice({ name: 'x', authType: 'token', deviceId: id })).rejects.toThrow(/reserved/)
    }
    await expect(workspace.createDevice({ name: 'x', authType: 'token', deviceId: 'device-0001', username: 'toString' })).rejects.toThrow(
      /reserved/,
    )
  })

  it('one bad call in browser mode leaves every other operation working', async () => {
    const { workspace } = await makeFleet()
    const dispatch = createDispatcher(implementApi(workspace, headlessFrontDoor()))
    expect(await dispatch('updateCertificate', ['__proto__', { name: 'x' }])).toMatchObject({
      ok: false,
      error: 'There is no certificate "__proto__".',
    })
    for (const operation of ['listCertificates', 'listDevices', 'getRootCa', 'listTesterProfiles']) {
      expect(await dispatch(operation, []), operation).toMatchObject({ ok: true })
    }
  })

  it('the CLI refuses them with a non-zero exit and changes nothing', async () => {
    const { workspace, certificate } = await makeFleet()
    const before = registryContents(workspace.snapshot())
    for (const args of [
      ['device', 'delete', 'constructor'],
      ['cert', 'bind', 'constructor', 'cert-device-01'],
      ['cert', 'bind', certificate.id, 'constructor'],
      ['cert', 'update', '__proto__', '--name', 'x'],
    ]) {
      const result = await runCertdesk(['--data', workspace.dataDir, ...args])
      expect(result.code, args.join(' ')).toBe(1)
      expect(result.stderr).toMatch(/^certdesk: There is no (device|certificate) "(constructor|__proto__)"\.\n$/)
    }
    expect(registryContents(workspace.snapshot())).toBe(before)
  })
})

describe('names and device IDs', () => {
  it('refuse C1 controls, text-direction overrides and invisible-only names; device IDs may not start with "-"', async () => {
    const { workspace } = await makeFleet()
    for (const name of ['bad\u0085name', 'invoice\u202Egpj.exe', '\u200B\u200B', '\u2066x', 'tab\tname']) {
      await expect(workspace.createDevice({ name, authType: 'token' }), JSON.stringify(name)).rejects.toThrow(
        /control or text-direction|empty/,
      )
      await expect(workspace.issueDeviceCertificate({ name }), JSON.stringify(name)).rejects.toThrow(/control or text-direction|empty/)
    }
    await expect(workspace.createDevice({ name: 'dash', authType: 'token', deviceId: '-rf-00000' })).rejects.toThrow(
      /not starting with "-"/,
    )
    expect((await workspace.createDevice({ name: 'Zähler 水表', authType: 'token', deviceId: 'meter_0001' })).name).toBe('Zähler 水表')
  })
})
