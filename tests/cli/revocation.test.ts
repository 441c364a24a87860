import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { openssl, runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'
import { expectCliRefusal, folderSnapshot } from '../helpers/cliChecks'

let folder: string
let dataDir: string
const cd = (...args: string[]) => ['--data', dataDir, ...args]
const expectRefusal = (args: string[], exitCode: number, pattern: RegExp) => expectCliRefusal(args, pattern, { exitCode })
const snapshot = () => folderSnapshot(dataDir)

beforeAll(async () => {
  folder = await temporaryFolder()
  dataDir = join(folder, 'data')
  await runCertdeskJson(cd('ca', 'init', '--key-type', 'ec-p256'))
})

describe('certdesk cert revoke and ca crl', () => {
  it('revokes with a reason, refuses what a revoked certificate may no longer do, and writes a CRL openssl verifies', async () => {
    const certificate = await runCertdeskJson<{ id: string; serial: string }>(cd('cert', 'create', '--name', 'Gone'))
    await runCertdeskJson(cd('device', 'create', '--name', 'Dev', '--auth', 'cert', '--device-id', 'device-01'))

    await expectRefusal(
      cd('cert', 'revoke', certificate.id, '--reason', 'lost'),
      1,
      /Unknown revocation reason "lost"; use one of .*keyCompromise/,
    )
    await expectRefusal(cd('cert', 'revoke', 'nope'), 1, /There is no certificate "nope"\./)

    const human = await runCertdesk(cd('cert', 'revoke', certificate.id, '--reason', 'cessationOfOperation'))
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^Revoked certificate crt_\w+ \(cessationOfOperation\)/)
    expect(human.stdout).toMatch(/Status: +revoked on .* \(cessationOfOperation\)/)
    const shown = await runCertdeskJson<{ status: string; revocationReason: string; enabled: boolean }>(cd('cert', 'show', certificate.id))
    expect(shown).toMatchObject({ status: 'revoked', revocationReason: 'cessationOfOperation', enabled: false })

    const before = await snapshot()
    await expectRefusal(
      cd('cert', 'update', certificate.id, '--enable'),
      1,
      /is revoked \(cessationOfOperation, .*\); revocation is final, so it cannot be enabled\.$/,
    )
    await expectRefusal(cd('cert', 'bind', certificate.id, 'device-01'), 1, /cannot be bound to devices\.$/)
    await expectRefusal(cd('cert', 'revoke', certificate.id), 1, /was already revoked on .* \(cessationOfOperation\)\.$/)
    expect(await snapshot()).toEqual(before)

    await expectRefusal(
      cd('ca', 'crl', '--days', '0'),
      1,
      /^certdesk: The CRL validity \(until its next update\) must be a whole number of days from 1 to 366\.$/,
    )
    const crlPath = join(folder, 'crl.pem')
    const written = await runCertdeskJson<{ path: string; crlNumber: number; revoked: number }>(
      cd('ca', 'crl', '--out', crlPath, '--days', '30'),
    )
    expect(written).toMatchObject({ path: crlPath, revoked: 1 })
    const rootPath = join(folder, 'root_ca.crt')
    await runCertdeskJson(cd('ca', 'export', '--out', rootPath))
    await openssl(['crl', '-in', crlPath, '-CAfile', rootPath, '-verify', '-noout'])
    expect(await openssl(['crl', '-in', crlPath, '-text', '-noout'])).toMatch(
      new RegExp(`Serial Number: ${certificate.serial}[\\s\\S]*Cessation Of Operation`),
    )
    await expectRefusal(cd('ca', 'crl', '--out', crlPath), 1, /exists/)
    const derPath = join(folder, 'crl.der')
    const der = await runCertdeskJson<{ crlNumber: number }>(cd('ca', 'crl', '--out', derPath, '--der'))
    // The refused write above was refused before a CRL was made: it used up no number.
    expect(der.crlNumber).toBe(written.crlNumber + 1)
    expect(await openssl(['crl', '-in', derPath, '-inform', 'DER', '-noout', '-crlnumber'])).toContain(
      `crlNumber=0x${der.crlNumber.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    const stdout = await runCertdesk(cd('ca', 'crl'))
    expect(stdout.stdout).toMatch(/^-----BEGIN X509 CRL-----/)
  })
})
