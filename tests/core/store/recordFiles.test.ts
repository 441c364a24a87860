import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildRootCertificate } from '../../../src-main/core/pki/certificates'
import { generateKeyPair } from '../../../src-main/core/pki/keys'
import {
  certificateFault,
  checkedCertificatePem,
  namedRecordIds,
  readLegacyRecordFile,
  recordFileOf,
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

describe('records', () => {
  it('keep the PEM and the sealed key together; a schema-2 record file reads back as written, a missing or damaged one is CORRUPT_STORE', async () => {
    const dataDir = await temporaryFolder()
    const { pem } = await certificate('written')
    expect(recordFileOf(pem, sealed)).toEqual({ certificatePem: pem, privateKey: { format: 'aes-256-gcm', ...sealed } })
    expect(recordFileOf(pem, null).privateKey).toBeNull()
    await mkdir(join(dataDir, 'records'))
    await writeFile(join(dataDir, 'records', 'crt_a.json'), JSON.stringify(recordFileOf(pem, sealed)))
    await writeFile(join(dataDir, 'records', 'crt_half.json'), '{"certificatePem":')
    await writeFile(join(dataDir, 'records', 'crt_empty.json'), JSON.stringify({ privateKey: null }))
    expect(await readLegacyRecordFile(dataDir, 'crt_a')).toEqual(recordFileOf(pem, sealed))
    expect(await codeOf(readLegacyRecordFile(dataDir, 'crt_none'))).toBe('CORRUPT_STORE')
    expect(await codeOf(readLegacyRecordFile(dataDir, 'crt_half'))).toBe('CORRUPT_STORE')
    expect(await codeOf(readLegacyRecordFile(dataDir, 'crt_empty'))).toBe('CORRUPT_STORE')
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
