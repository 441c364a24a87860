import { describe, expect, it } from 'vitest'
import { withoutSecrets } from '../../../src-main/core/tester/savedTesterProfiles'
import { SECRET_FIELDS } from '../../../src-main/core/tester/types'
import type { ManualQuickTest } from '../../../src-main/core/tester/types'

/** Every key at any depth, as a path. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => keyPaths(item, `${prefix}[${index}]`))
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => [
    `${prefix}${prefix ? '.' : ''}${key}`,
    ...keyPaths(inner, `${prefix}${prefix ? '.' : ''}${key}`),
  ])
}

const leaf = (path: string) => path.replace(/^.*[.\]]/, '')

const everySecret = {
  kind: 'manual',
  host: 'broker.example',
  port: 8884,
  clientId: 'pump-0001',
  username: 'pump-0001',
  password: 'secret-password',
  protocolVersion: 4,
  keepalive: 30,
  clean: true,
  will: { topic: 'pumps/pump-0001/status', payload: '{"online": false}', encoding: 'json', qos: 1, retain: true },
  // A user property may be named like a secret field: it is the operator's data, and it stays.
  connectProperties: { sessionExpiryInterval: 60, receiveMaximum: 10, userProperties: [{ key: 'password', value: 'not a secret' }] },
  verification: { mode: 'pem', caPem: 'CA PEM', serverName: 'broker.example', minVersion: 'TLSv1.2', alpnProtocols: ['mqtt'] },
  client: {
    mode: 'pkcs12',
    certificateId: 'c_1',
    certificatePem: 'CERT PEM',
    privateKeyPem: 'KEY PEM',
    pkcs12Base64: 'UDEy',
    passphrase: 'secret-passphrase',
  },
} satisfies Required<ManualQuickTest>

describe('secret stripping of saved tester profiles', () => {
  it('the secret fields are the secrets a quick-test request can carry', () => {
    // A new secret in the request type belongs in this list and in SECRET_FIELDS.
    expect([...SECRET_FIELDS].sort()).toEqual(['passphrase', 'password', 'pkcs12Base64', 'privateKeyPem'])
  })

  it('removes every secret field of a request, nested ones too, and keeps everything else as it was', () => {
    const stripped = withoutSecrets(everySecret)
    expect(keyPaths(stripped).filter((path) => (SECRET_FIELDS as readonly string[]).includes(leaf(path)))).toEqual([])
    expect(JSON.stringify(stripped)).not.toMatch(/secret-|KEY PEM|UDEy/)
    const { password: _password, client, ...rest } = everySecret
    const { privateKeyPem: _key, pkcs12Base64: _p12, passphrase: _passphrase, ...publicClient } = client
    expect(stripped).toEqual({ ...rest, client: publicClient })
  })

  it('reaches secrets at any depth and inside arrays, and leaves the input untouched', () => {
    const input = {
      password: 'a',
      list: [{ passphrase: 'b', keep: 1 }, [{ deeper: { privateKeyPem: 'c', pkcs12Base64: 'd', name: 'kept' } }], 'text', null, 7],
      nested: { inner: { password: 'e', clientId: 'kept' } },
    }
    const copy = structuredClone(input)
    const stripped = withoutSecrets(input)
    expect(stripped).toEqual({
      list: [{ keep: 1 }, [{ deeper: { name: 'kept' } }], 'text', null, 7],
      nested: { inner: { clientId: 'kept' } },
    })
    expect(keyPaths(stripped).filter((path) => (SECRET_FIELDS as readonly string[]).includes(leaf(path)))).toEqual([])
    expect(input).toEqual(copy)
  })

  it('leaves plain values and secret-looking values under other names alone', () => {
    expect(withoutSecrets('password')).toBe('password')
    expect(withoutSecrets(null)).toBe(null)
    expect(withoutSecrets(42)).toBe(42)
    expect(withoutSecrets({ note: 'my password is hunter2', passwordHint: 'x' })).toEqual({
      note: 'my password is hunter2',
      passwordHint: 'x',
    })
  })
})
