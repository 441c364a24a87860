import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildRootCertificate } from '../../../src-main/core/pki/certificates'
import { generateKeyPair } from '../../../src-main/core/pki/keys'
import {
  certificateFault,
  checkedCertificatePem,
  namedRecordIds,
  readRecordFile,
  recordPath,
  removeRecordFile,
  writeRecordFile,
} from '../../../src-main/core/store/recordFiles'
import type { StoreData, WholeIndex } from '../../../src-main/core/store/schema'
import { tablesOverWholeIndex } from '../../../src-main/core/store/tables'
import { codeOf } from '../../helpers/errors'
import { temporaryFolder } from '../../helpers/tools'

async function certificate(commonName: string) {
  const keys = await generateKeyPair('ec-p256')
  return buildRootCertificate({ keys, keyType: 'ec-p256', commonName, days: 1 })
}

/** Just the index fields record files are checked against. */
function indexNaming(records: {
  rootCa?: string
  certificates?: Record<string, string>
  server?: { recordId: string; fingerprint256: string }
}): StoreData {
  return tablesOverWholeIndex({
    rootCa: records.rootCa === undefined ? null : { fingerprint256: records.rootCa },
    certificates: Object.fromEntries(
      Object.entries(records.certificates ?? {}).map(([id, fingerprint256]) => [id, { id, fingerprint256 }]),
    ),
    devices: {},
    bindings: [],
    ...(records.server ? { broker: { serverCertificate: records.server } } : {}),
  } as unknown as WholeIndex)
}

const sealed = { iv: 'aXY=', tag: 'dGFn', data: 'ZGF0YQ==' }

describe('record files', () => {
  it('hold the PEM and the sealed key as one owner-only file, and read back as written', async () => {
    const dataDir = await temporaryFolder()
    const { pem } = await certificate('written')
    await writeRecordFile(join(dataDir, 'records'), 'crt_a', pem, sealed)
    await writeRecordFile(join(dataDir, 'records'), 'crt_csr', pem, null)
    expect(await readRecordFile(dataDir, 'crt_a')).toEqual({ certificatePem: pem, privateKey: { format: 'aes-256-gcm', ...sealed } })
    expect((await readRecordFile(dataDir, 'crt_csr')).privateKey).toBeNull()
    expect((await stat(recordPath(dataDir, 'crt_a'))).mode & 0o777).toBe(0o600)
    await removeRecordFile(dataDir, 'crt_a')
    expect(await codeOf(readRecordFile(dataDir, 'crt_a'))).toBe('CORRUPT_STORE')
  })

  it('are found in staging between the index write and the move; a missing or damaged one is CORRUPT_STORE', async () => {
    const dataDir = await temporaryFolder()
    const { pem } = await certificate('staged')
    await writeRecordFile(join(dataDir, 'records', '.staging-host-1-abcd'), 'crt_staged', pem, null)
    expect((await readRecordFile(dataDir, 'crt_staged')).certificatePem).toBe(pem)
    expect(await codeOf(readRecordFile(dataDir, 'crt_none'))).toBe('CORRUPT_STORE')
    await mkdir(join(dataDir, 'records'), { recursive: true })
    await writeFile(recordPath(dataDir, 'crt_half'), '{"certificatePem":')
    await writeFile(recordPath(dataDir, 'crt_empty'), JSON.stringify({ privateKey: null }))
    expect(await codeOf(readRecordFile(dataDir, 'crt_half'))).toBe('CORRUPT_STORE')
    expect(await codeOf(readRecordFile(dataDir, 'crt_empty'))).toBe('CORRUPT_STORE')
    expect(JSON.parse(await readFile(join(dataDir, 'records', '.staging-host-1-abcd', 'crt_staged.json'), 'utf8')).certificatePem).toBe(pem)
  })
})

describe('checking a record against the index', () => {
  it('tells a certificate that is not one from another certificate; a record the index does not name has nothing to differ from', async () => {
    const [a, b] = await Promise.all([certificate('a'), certificate('b')])
    const data = indexNaming({
      rootCa: a.fingerprint256,
      certificates: { crt_a: a.fingerprint256 },
      server: { recordId: 'broker-server-1', fingerprint256: b.fingerprint256 },
    })
    expect(certificateFault(data, 'crt_a', a.pem)).toBeUndefined()
    expect(certificateFault(data, 'crt_a', b.pem)).toBe('different')
    expect(certificateFault(data, 'crt_a', 'not a certificate')).toBe('unreadable')
    expect(certificateFault(data, 'broker-server-1', b.pem)).toBeUndefined()
    expect(certificateFault(data, 'crt_unnamed', b.pem)).toBeUndefined()
    expect(checkedCertificatePem(data, 'crt_a', a.pem)).toBe(a.pem)
    expect(() => checkedCertificatePem(data, 'crt_a', b.pem)).toThrow(/does not match the registry/)
  })

  it('always names the root CA record: with no root CA in the index, any certificate there differs', async () => {
    const { pem } = await certificate('root')
    const data = indexNaming({ certificates: { crt_a: 'AA' }, server: { recordId: 'broker-server-1', fingerprint256: 'BB' } })
    expect([...namedRecordIds(data)].sort()).toEqual(['broker-server-1', 'crt_a', 'root-ca'])
    expect(certificateFault(data, 'root-ca', pem)).toBe('different')
  })
})
