import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { contentsOf, createDispatcher, implementApi } from '../../src-main/contract/dispatch'
import type { Envelope, RootCaView } from '../../src-main/contract/types'
import { Workspace } from '../../src-main/core/workspace'
import { headlessFrontDoor } from '../helpers/frontDoor'
import { openssl, temporaryFolder } from '../helpers/tools'

// Issue 11 through the contract, as the desktop app's save dialog sees it: certificate exports and
// the CRL go to `saveFile` (never back to the page), and the CRL distribution point is a setting.

interface Saved {
  name: string
  data: Buffer
  mode: number
}

let workspace: Workspace
let saved: Saved[]
let dispatch: ReturnType<typeof createDispatcher>

beforeAll(async () => {
  workspace = await Workspace.initialise(join(await temporaryFolder('certdesk-contract-lifecycle-'), 'data'), { keyType: 'ec-p256' })
  saved = []
  dispatch = createDispatcher(
    implementApi(workspace, {
      ...headlessFrontDoor(),
      saveFile: async (name, data, mode) => {
        saved.push({ name, data: Buffer.from(await contentsOf(data)), mode })
        return { saved: true, location: `/saved/${name}` }
      },
    }),
  )
})

const value = <T>(envelope: Envelope) => {
  if (!envelope.ok) throw new Error(envelope.error)
  return envelope.value as T
}

describe('saveCertificateExport', () => {
  it('hands each format to the save dialog under the certificate’s name, keys owner-only, and answers only where it went', async () => {
    const certificate = await workspace.issueDeviceCertificate({ name: 'Meter 9' })
    saved.length = 0
    const answer = await dispatch('saveCertificateExport', [certificate.id, 'p12', { passphrase: 'p12 passphrase', friendlyName: 'M9' }])
    expect(value(answer)).toEqual({ saved: true, location: '/saved/Meter 9.p12' })
    await dispatch('saveCertificateExport', [certificate.id, 'pem', {}])
    await dispatch('saveCertificateExport', [certificate.id, 'key', { passphrase: 'key passphrase' }])
    expect(saved.map(({ name, mode }) => [name, mode])).toEqual([
      ['Meter 9.p12', 0o600],
      ['Meter 9.crt', 0o644],
      ['Meter 9.key', 0o600],
    ])
    expect(saved[1].data.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/)
    expect(saved[2].data.toString()).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
    expect(
      workspace
        .getAuditLog()
        .entries.filter((entry) => entry.action === 'certificate.export')
        .map((entry) => entry.detail),
    ).toEqual([{ format: 'p12' }, { format: 'key' }])
  })

  it('refuses before any dialog: a missing passphrase, a revoked certificate’s key, and options the schema does not know', async () => {
    const certificate = await workspace.issueDeviceCertificate({ name: 'Meter 10' })
    saved.length = 0
    expect(await dispatch('saveCertificateExport', [certificate.id, 'p12', {}])).toMatchObject({
      ok: false,
      code: 'INVALID_INPUT',
      messageKey: 'export.passphraseRequired',
    })
    expect(await dispatch('saveCertificateExport', [certificate.id, 'p12', { passphrase: 'x', keyPem: 'y' }])).toMatchObject({
      ok: false,
      code: 'MALFORMED_REQUEST',
    })
    expect(await dispatch('saveCertificateExport', [certificate.id, 'jks', {}])).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' })
    await workspace.revokeCertificate(certificate.id, 'keyCompromise')
    for (const format of ['zip', 'p12', 'key']) {
      const refused = await dispatch('saveCertificateExport', [certificate.id, format, { passphrase: 'long enough' }])
      expect(refused, format).toMatchObject({ ok: false, code: 'CONFLICT' })
    }
    expect(saved).toEqual([])
    // The certificate itself may still go.
    value(await dispatch('saveCertificateExport', [certificate.id, 'chain', {}]))
    expect(saved.map((file) => file.name)).toEqual(['Meter 10.chain.pem'])
  })
})

describe('saveCrl and the CRL distribution point', () => {
  it('saves a CRL signed by the root that lists the revoked certificates', async () => {
    const revoked = await workspace.issueDeviceCertificate({ name: 'Meter 11' })
    await workspace.revokeCertificate(revoked.id, 'superseded')
    saved.length = 0
    value(await dispatch('saveCrl', [3]))
    expect(saved.map(({ name, mode }) => [name, mode])).toEqual([['crl.pem', 0o644]])
    const text = await openssl(['crl', '-noout', '-text'], saved[0].data.toString())
    expect(text).toContain(`Serial Number: ${revoked.serial}`)
    expect(await dispatch('saveCrl', [0])).toMatchObject({ ok: false, code: 'INVALID_INPUT', messageKey: 'validation.crlDays' })
  })

  it('makes the CRL only once the dialog has a place for it: a cancelled dialog uses up no CRL number', async () => {
    const cancelling = createDispatcher(implementApi(workspace, { ...headlessFrontDoor(), saveFile: async () => ({ saved: false }) }))
    const before = workspace.snapshot().rootCa?.crlNumber
    expect(value(await cancelling('saveCrl', [3]))).toEqual({ saved: false })
    expect(workspace.snapshot().rootCa?.crlNumber).toBe(before)
    // Days are checked before any dialog opens.
    expect(await cancelling('saveCrl', [0])).toMatchObject({ ok: false, messageKey: 'validation.crlDays' })
  })

  it('sets and clears the distribution point, refusing a URL that is not http(s) with its sentence', async () => {
    expect(await dispatch('setCrlDistributionPoint', ['file:///etc/crl.pem'])).toMatchObject({
      ok: false,
      code: 'INVALID_INPUT',
      messageKey: 'rootCa.crlUrlInvalid',
    })
    const set = value<RootCaView>(await dispatch('setCrlDistributionPoint', ['http://crl.example.net/fleet.crl']))
    expect(set.crlDistributionPoint).toBe('http://crl.example.net/fleet.crl')
    expect(value<RootCaView>(await dispatch('getRootCa', [])).crlDistributionPoint).toBe('http://crl.example.net/fleet.crl')
    const cleared = value<RootCaView>(await dispatch('setCrlDistributionPoint', [null]))
    expect(cleared).not.toHaveProperty('crlDistributionPoint')
  })
})
