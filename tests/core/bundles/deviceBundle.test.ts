import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Workspace } from '../../../src-main/core/workspace'
import { command, openssl, temporaryFolder } from '../../helpers/tools'

describe('device bundle', () => {
  it.each(['rsa2048', 'ec-p256'] as const)('%s: unpacks to exactly the seed layout and verifies with openssl', async (keyType) => {
    const folder = await temporaryFolder()
    const workspace = await Workspace.initialise(join(folder, 'data'), { keyType })
    const certificate = await workspace.issueDeviceCertificate({ name: 'Bundle' })
    const zipFile = join(folder, 'bundle.zip')
    await writeFile(zipFile, await workspace.exportDeviceBundle(certificate.id))

    expect((await command('unzip', ['-Z1', zipFile])).trim().split('\n')).toEqual([
      'common_certs/common.crt',
      'common_certs/common.key',
      'common_certs/root_ca.crt',
    ])
    const out = join(folder, 'unpacked')
    await mkdir(out)
    await command('unzip', ['-q', zipFile], out)
    const dir = join(out, 'common_certs')
    expect(await openssl(['verify', '-CAfile', join(dir, 'root_ca.crt'), join(dir, 'common.crt')])).toBe(`${join(dir, 'common.crt')}: OK\n`)
    expect(await openssl(['pkey', '-in', join(dir, 'common.key'), '-pubout'])).toBe(
      await openssl(['x509', '-in', join(dir, 'common.crt'), '-noout', '-pubkey']),
    )
    expect(await openssl(['x509', '-in', join(dir, 'common.crt'), '-noout', '-subject'])).toBe(`subject=CN = ${certificate.cn}\n`)
    expect(await openssl(['x509', '-in', join(dir, 'common.crt'), '-noout', '-fingerprint', '-sha256'])).toBe(
      `sha256 Fingerprint=${certificate.fingerprint256}\n`,
    )
    expect(await openssl(['x509', '-in', join(dir, 'root_ca.crt'), '-noout', '-fingerprint', '-sha256'])).toBe(
      `sha256 Fingerprint=${workspace.getRootCa().fingerprint256}\n`,
    )
    // unzip keeps the key private to its owner.
    expect((await stat(join(dir, 'common.key'))).mode & 0o777).toBe(0o600)
  })
})
