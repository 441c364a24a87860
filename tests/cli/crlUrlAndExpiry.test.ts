import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expectCliRefusal } from '../helpers/cliChecks'
import { beforeAll, describe, expect, it } from 'vitest'
import { openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

// Issue 11: the CRL distribution point in the CA settings (written into device certificates issued
// after it is set), and `cert list --expiring-within`.

let folder: string
let dataDir: string
const cd = (...args: string[]) => ['--data', dataDir, ...args]

const expectRefusal = (args: string[], exitCode: number, pattern: RegExp) => expectCliRefusal(args, pattern, { exitCode })

/** The certificate as `openssl x509 -text` prints it. */
async function certificateText(id: string): Promise<string> {
  const path = join(folder, `${id}.crt`)
  await runCertdeskJson(cd('cert', 'export', id, '--format', 'pem', '--out', path, '--force'))
  return openssl(['x509', '-in', path, '-noout', '-text'])
}

beforeAll(async () => {
  folder = await temporaryFolder()
  dataDir = join(folder, 'data')
  await runCertdeskJson(cd('ca', 'init', '--key-type', 'ec-p256'))
})

describe('certdesk ca set --crl-url', () => {
  it('writes the URL as a CRL distribution point into certificates issued after it is set, and only those', async () => {
    const before = await runCertdeskJson<{ id: string }>(cd('cert', 'create', '--name', 'Before'))

    const index = await readFile(join(dataDir, 'config.json'), 'utf8')
    await expectRefusal(cd('ca', 'set', '--crl-url', 'ftp://pki.example.com/root.crl'), 1, /is not a CRL distribution point; give an http/)
    await expectRefusal(cd('ca', 'set', '--crl-url', 'pki.example.com/root.crl'), 1, /is not a CRL distribution point/)
    await expectRefusal(cd('ca', 'set'), 2, /^certdesk: Nothing to change: give --crl-url URL or --no-crl-url\.$/)
    expect(await readFile(join(dataDir, 'config.json'), 'utf8')).toBe(index)

    const url = 'http://pki.example.com/certdesk/root.crl'
    const set = await runCertdeskJson<{ crlDistributionPoint?: string }>(cd('ca', 'set', '--crl-url', url))
    expect(set.crlDistributionPoint).toBe(url)
    const shown = await runCertdesk(cd('ca', 'show'))
    expect(shown.stdout).toMatch(new RegExp(`CRL URL: +${url.replace(/\./g, '\\.')}`))
    const after = await runCertdeskJson<{ id: string }>(cd('cert', 'create', '--name', 'After'))

    const withPoint = await certificateText(after.id)
    expect(withPoint).toMatch(/X509v3 CRL Distribution Points: *\n\s*Full Name:\s*\n\s*URI:http:\/\/pki\.example\.com\/certdesk\/root\.crl/)
    // Non-critical: openssl marks a critical extension so.
    expect(withPoint).not.toMatch(/CRL Distribution Points: critical/)
    expect(await certificateText(before.id)).not.toMatch(/CRL Distribution Points/)

    // The chain still verifies with the extension in place.
    const rootPath = join(folder, 'root_ca.crt')
    await runCertdeskJson(cd('ca', 'export', '--out', rootPath, '--force'))
    const leafPath = join(folder, `${after.id}.crt`)
    expect(await openssl(['verify', '-CAfile', rootPath, leafPath])).toMatch(/: OK/)

    const cleared = await runCertdeskJson<{ crlDistributionPoint?: string }>(cd('ca', 'set', '--no-crl-url'))
    expect(cleared.crlDistributionPoint).toBeUndefined()
    const later = await runCertdeskJson<{ id: string }>(cd('cert', 'create', '--name', 'Later'))
    expect(await certificateText(later.id)).not.toMatch(/CRL Distribution Points/)
    // The one it was written into keeps it.
    expect(await certificateText(after.id)).toMatch(/URI:http:\/\/pki\.example\.com\/certdesk\/root\.crl/)

    const audit = await runCertdeskJson<{ action: string; target: string }[]>(cd('audit'))
    expect(audit.filter((entry) => entry.action === 'ca.crl-url').map((entry) => entry.target)).toEqual([url, '(none)'])
  })

  it('reads a folder written before the setting existed (no schema step) and refuses a damaged value as a damaged index', async () => {
    const path = join(dataDir, 'config.json')
    const data = JSON.parse(await readFile(path, 'utf8')) as { rootCa: Record<string, unknown> }
    expect(data.rootCa.crlDistributionPoint).toBeUndefined()
    expect((await runCertdeskJson<{ crlDistributionPoint?: string }>(cd('ca', 'show'))).crlDistributionPoint).toBeUndefined()
    const original = await readFile(path, 'utf8')
    await writeFile(path, JSON.stringify({ ...data, rootCa: { ...data.rootCa, crlDistributionPoint: 7 } }))
    const result = await runCertdesk(cd('ca', 'show'))
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/rootCa\.crlDistributionPoint/)
    await writeFile(path, original)
  })
})

describe('certdesk cert list --expiring-within', () => {
  it('lists the certificates that expire within the window and have not yet; revoked ones are left out', async () => {
    const soon = await runCertdeskJson<{ id: string }>(cd('cert', 'create', '--name', 'Soon', '--days', '10'))
    const gone = await runCertdeskJson<{ id: string }>(cd('cert', 'create', '--name', 'Soon but revoked', '--days', '12'))
    await runCertdeskJson(cd('cert', 'revoke', gone.id))
    const month = await runCertdeskJson<{ id: string }>(cd('cert', 'create', '--name', 'Next month', '--days', '40'))

    const ids = async (...window: string[]) =>
      (await runCertdeskJson<{ id: string }[]>(cd('cert', 'list', ...window))).map((certificate) => certificate.id)
    expect(await ids('--expiring-within', '30d')).toEqual([soon.id])
    expect(await ids('--expiring-within', '30')).toEqual([soon.id])
    expect(await ids('--expiring-within', '45D')).toEqual([soon.id, month.id])
    expect(await ids()).toEqual(expect.arrayContaining([soon.id, gone.id, month.id]))

    const none = await runCertdesk(cd('cert', 'list', '--expiring-within', '5d'))
    expect(none.code).toBe(0)
    expect(none.stdout.trim()).toBe('No certificate expires within 5 days.')
    const table = await runCertdesk(cd('cert', 'list', '--expiring-within', '30d'))
    expect(table.stdout).toMatch(/^ID +NAME/)
    expect(table.stdout).toMatch(/Soon/)
    expect(table.stdout).not.toMatch(/Next month|revoked/)

    for (const bad of ['0', 'abc', '30w', '-3', '1.5d', '36501']) {
      await expectRefusal(
        cd('cert', 'list', '--expiring-within', bad),
        1,
        /is not an expiry window; give a whole number of days from 1 to 36500, such as 30d or 30\.$/,
      )
    }
  })
})
