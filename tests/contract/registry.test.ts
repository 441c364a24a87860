import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createDispatcher, implementApi } from '../../src-main/contract/dispatch'
import { createFirstRunDispatcher } from '../../src-main/contract/firstRun'
import type { Envelope, RootCaView } from '../../src-main/contract/types'
import { Workspace } from '../../src-main/core/workspace'
import { makeRoot } from '../helpers/externalCa'
import { headlessFrontDoor } from '../helpers/frontDoor'
import { temporaryFolder } from '../helpers/tools'

let workspace: Workspace

beforeAll(async () => {
  workspace = await Workspace.initialise(join(await temporaryFolder('certdesk-contract-registry-'), 'data'), { keyType: 'ec-p256' })
})

const value = <T>(envelope: Envelope) => {
  if (!envelope.ok) throw new Error(envelope.error)
  return envelope.value as T
}

describe('saving a bundle through a save dialog', () => {
  it('suggests the certificate’s real name, Chinese included, with only what no file system takes replaced', async () => {
    const suggested: string[] = []
    const dispatch = createDispatcher(
      implementApi(workspace, {
        ...headlessFrontDoor(),
        saveFile: async (name) => {
          suggested.push(name)
          return { saved: false }
        },
      }),
    )
    for (const name of ['水表 证书', '水表 证书 二', 'Pump 7: north/south?', 'CON']) {
      const certificate = await workspace.issueDeviceCertificate({ name })
      expect(value(await dispatch('saveDeviceBundle', [certificate.id]))).toEqual({ saved: false })
    }
    expect(suggested).toEqual(['水表 证书.zip', '水表 证书 二.zip', 'Pump 7_ north_south_.zip', '_CON.zip'])
  })
})

describe('first run: a front door on a folder without a root CA', () => {
  it('answers every operation but initialiseRootCa with NOT_INITIALISED, then creates the root CA once', async () => {
    const dataDir = join(await temporaryFolder('certdesk-contract-first-run-'), 'data')
    let opened: Workspace | undefined
    const dispatch = createFirstRunDispatcher(dataDir, async (setup) => {
      opened = await Workspace.initialise(dataDir, { ...setup, actor: 'browser' })
      return opened
    })
    expect(await dispatch('listCertificates', [])).toMatchObject({ ok: false, code: 'NOT_INITIALISED' })
    expect(await dispatch('getVaultState', [])).toMatchObject({ ok: false, code: 'NOT_INITIALISED' })
    // Arguments are checked as in any dispatcher, and the core's own checks still speak.
    expect(await dispatch('initialiseRootCa', [{ keyType: 'dsa' }])).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    expect(await dispatch('initialiseRootCa', [{ passphrase: 'short' }])).toMatchObject({ ok: false, code: 'INVALID_INPUT' })
    expect(await dispatch('initialiseRootCa', [{ commonName: 'a\u202eb' }])).toMatchObject({ ok: false, code: 'INVALID_INPUT' })
    expect(existsSync(join(dataDir, 'config.json'))).toBe(false)

    const root = value<RootCaView>(
      await dispatch('initialiseRootCa', [{ keyType: 'ec-p256', commonName: 'Line 3 Root', days: 730, passphrase: 'line three pass' }]),
    )
    expect(root).toMatchObject({ commonName: 'Line 3 Root', keyType: 'ec-p256', keyProtection: 'passphrase' })
    expect(opened?.getRootCa().fingerprint256).toBe(root.fingerprint256)
    // A second page (or a second click) finds the folder made.
    expect(await dispatch('initialiseRootCa', [{}])).toMatchObject({ ok: false, code: 'CONFLICT' })
  })

  it('refuses initialiseRootCa on a folder that has its root CA', async () => {
    const dispatch = createDispatcher(implementApi(workspace, headlessFrontDoor()))
    expect(await dispatch('initialiseRootCa', [{}])).toMatchObject({ ok: false, code: 'CONFLICT' })
    expect(await dispatch('importRootCa', [{ kind: 'pem', certificatePem: 'x', privateKeyPem: 'y' }])).toMatchObject({
      ok: false,
      code: 'CONFLICT',
    })
  })

  it('imports an existing CA through importRootCa: shapes checked, the core refuses in its own words, then once', async () => {
    const folder = await temporaryFolder('certdesk-contract-import-')
    const dataDir = join(folder, 'data')
    const ca = await makeRoot(folder, 'contract-root', { key: 'ec' })
    const dispatch = createFirstRunDispatcher(dataDir, async (setup) => Workspace.initialise(dataDir, { ...setup, actor: 'browser' }))
    const certificatePem = await readFile(ca.certificate, 'utf8')
    const privateKeyPem = await readFile(ca.key, 'utf8')
    expect(await dispatch('importRootCa', [{ kind: 'pem', certificatePem }])).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    expect(await dispatch('importRootCa', [{ kind: 'pkcs12', pkcs12Base64: 'AAAA', extra: 1 }])).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST',
    })
    expect(await dispatch('importRootCa', [{ kind: 'pkcs12', pkcs12Base64: 'AAAA' }])).toMatchObject({
      ok: false,
      code: 'INVALID_INPUT',
      messageKey: 'caImport.pkcs12Unreadable',
    })
    expect(await dispatch('importRootCa', [{ kind: 'pem', certificatePem: privateKeyPem, privateKeyPem }])).toMatchObject({
      ok: false,
      messageKey: 'caImport.certificateMissing',
    })
    expect(existsSync(join(dataDir, 'config.json'))).toBe(false)
    const root = value<RootCaView>(
      await dispatch('importRootCa', [{ kind: 'pem', certificatePem, privateKeyPem, passphrase: 'contract pass' }]),
    )
    expect(root).toMatchObject({ commonName: 'contract-root', keyType: 'ec-p256', keyProtection: 'passphrase' })
    expect(await dispatch('importRootCa', [{ kind: 'pem', certificatePem, privateKeyPem }])).toMatchObject({ ok: false, code: 'CONFLICT' })
  })
})

describe('revoking through the contract', () => {
  it('checks the reason, revokes, and then refuses enabling with the key and values a screen translates', async () => {
    const dispatch = createDispatcher(implementApi(workspace, headlessFrontDoor()))
    const certificate = await workspace.issueDeviceCertificate({ name: 'Revoked over the contract' })
    expect(await dispatch('revokeCertificate', [certificate.id, 'lost'])).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    expect(await dispatch('revokeCertificate', [certificate.id])).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    expect(workspace.getCertificate(certificate.id).status).toBe('active')
    expect(value(await dispatch('revokeCertificate', [certificate.id, 'superseded']))).toMatchObject({
      status: 'revoked',
      revocationReason: 'superseded',
      enabled: false,
    })
    expect(await dispatch('updateCertificate', [certificate.id, { enabled: true }])).toMatchObject({
      ok: false,
      code: 'CONFLICT',
      messageKey: 'certificate.revokedNoEnable',
      params: { name: 'Revoked over the contract', reason: 'superseded' },
    })
  })
})
