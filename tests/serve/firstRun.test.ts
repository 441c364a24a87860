import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServe } from '../helpers/serve'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

/** Calls an operation as a script may before any browser signs in: the printed token as a Bearer header. */
async function call(url: URL, operation: string, args: unknown[]): Promise<{ ok: boolean; code?: string; value?: unknown }> {
  const response = await fetch(new URL(`/api/call/${operation}`, url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${url.searchParams.get('token')}` },
    body: JSON.stringify({ args }),
  })
  return (await response.json()) as { ok: boolean; code?: string; value?: unknown }
}

describe('certdesk serve on a folder without a root CA', () => {
  it('starts (instead of saying to run "ca init"), answers NOT_INITIALISED, and serves the folder once the page made its root CA', async () => {
    const dataDir = join(await temporaryFolder('certdesk-serve-first-run-'), 'data')
    // No broker: once the root CA exists it would listen on the default ports, which other tests may use.
    const url = new URL((await startServe(dataDir, { args: ['--no-broker'] })).url)
    expect(await call(url, 'getVaultState', [])).toMatchObject({ ok: false, code: 'NOT_INITIALISED' })
    expect(await call(url, 'listCertificates', [])).toMatchObject({ ok: false, code: 'NOT_INITIALISED' })

    const made = await call(url, 'initialiseRootCa', [{ keyType: 'ec-p256', commonName: 'Served Root' }])
    expect(made).toMatchObject({ ok: true, value: { commonName: 'Served Root', keyType: 'ec-p256', keyProtection: 'keyfile' } })
    expect(await call(url, 'listCertificates', [])).toEqual({ ok: true, value: [] })
    expect(await call(url, 'issueDeviceCertificate', [{ name: 'First' }])).toMatchObject({ ok: true, value: { name: 'First' } })
    expect(await call(url, 'initialiseRootCa', [{}])).toMatchObject({ ok: false, code: 'CONFLICT' })
    // The CLI sees the same folder, made by the browser.
    expect(await runCertdeskJson<{ commonName: string }>(['--data', dataDir, 'ca', 'show'])).toMatchObject({ commonName: 'Served Root' })
    expect((await runCertdeskJson<{ actor: string }[]>(['--data', dataDir, 'audit']))[0]).toMatchObject({ actor: 'browser' })
  })

  it('still refuses a folder that holds keys without its index, or is not a data folder', async () => {
    const root = await temporaryFolder('certdesk-serve-refused-')
    const orphaned = join(root, 'orphaned')
    await mkdir(join(orphaned, 'records'), { recursive: true })
    await writeFile(join(orphaned, 'records', 'crt_0000000000.json'), '{}')
    const refused = await runCertdesk(['--data', orphaned, 'serve', '--no-broker'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/is missing, but the folder still holds keys/)

    const foreign = join(root, 'foreign')
    await mkdir(foreign)
    await writeFile(join(foreign, 'notes.txt'), 'mine')
    const notOurs = await runCertdesk(['--data', foreign, 'serve', '--no-broker'])
    expect(notOurs.code).toBe(1)
    expect(notOurs.stderr).toMatch(/is not a Certdesk data folder/)
  })
})
