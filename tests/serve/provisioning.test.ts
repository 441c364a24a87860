import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import type { Envelope, ProvisioningOutcome } from '../../src-main/contract/types'
import { Workspace } from '../../src-main/core/workspace'
import { startBrowserMode } from '../../src-main/serve/browserMode'
import { temporaryFolder, whenFileEnds } from '../helpers/tools'

describe('browser mode: provisionDevices', () => {
  it('answers a one-time download link for the result zip, and takes a file larger than other calls may send', async () => {
    const folder = await temporaryFolder('certdesk-serve-provisioning-')
    const workspace = await Workspace.initialise(join(folder, 'data'), { keyType: 'ec-p256' })
    // A stand-in page: this test is about the API, not the screens (no build needed).
    const rendererDir = join(folder, 'renderer')
    await mkdir(rendererDir)
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>page</title>')
    const mode = await startBrowserMode(workspace, { rendererDir, broker: false })
    whenFileEnds(() => mode.close())
    const base = `http://127.0.0.1:${mode.server.port}`
    // Sign in as a browser does: the token buys the cookie and, in the fragment, the secret.
    const token = new URL(mode.server.url).searchParams.get('token') as string
    const signIn = await fetch(`${base}/?token=${token}`, { redirect: 'manual' })
    const cookie = (signIn.headers.get('set-cookie') as string).split(';')[0]
    const secret = (signIn.headers.get('location') as string).split('#')[1]
    const call = async (operation: string, args: unknown[]) =>
      (await (
        await fetch(`${base}/api/call/${operation}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-Certdesk-Session': secret },
          body: JSON.stringify({ args }),
        })
      ).json()) as Envelope
    // Over 1 MB, the limit of other calls: a padded name column is allowed in one file.
    const rows = Array.from({ length: 20 }, (_, index) => `Pump ${index},pump-${String(index).padStart(8, '0')},cert`)
    const padding = `# ${'x'.repeat(1_200_000)}`
    const text = ['name,device_id,auth', ...rows].join('\n')
    const preview = await call('previewProvisioning', [`${text}\n`, {}])
    expect(preview).toMatchObject({ ok: true, value: { counts: { create: 20 } } })
    const large = await call('previewProvisioning', [`${text}\n"${padding}",pump-99999999,cert\n`, {}])
    expect(large).toMatchObject({ ok: true })

    const outcome = await call('provisionDevices', [text, { includeDeviceKeys: false }])
    if (!outcome.ok) throw new Error(outcome.error)
    const value = outcome.value as ProvisioningOutcome
    expect(value).toMatchObject({ saved: true, counts: { create: 20, certificates: 20 } })
    expect(value.location).toMatch(/^\/download\/[\w-]+$/)
    // Until the browser has fetched a link, the run can be offered again (a download the page missed).
    const again = await call('saveProvisioningResult', [])
    expect(again).toMatchObject({ ok: true, value: { saved: true, location: expect.stringMatching(/^\/download\//) } })
    const download = await fetch(`${base}${value.location}`, { headers: { Cookie: cookie } })
    expect(download.status).toBe(200)
    expect(download.headers.get('content-disposition')).toMatch(/filename="provisioning-\d{4}-\d\d-\d\d\.zip"/)
    const zip = new AdmZip(Buffer.from(await download.arrayBuffer()))
    expect(zip.getEntries()).toHaveLength(21)
    // The link works once; once fetched, the run (and its keys) is gone from the server.
    expect((await fetch(`${base}${value.location}`, { headers: { Cookie: cookie } })).status).toBe(410)
    expect(await call('saveProvisioningResult', [])).toMatchObject({ ok: false, code: 'NOT_FOUND' })
  })
})
