// The EMQX 5 export, checked against the formats EMQX documents (EMQX is not installable here):
// emqx.conf with a real HOCON parser, acl.conf with a strict parser for the Erlang terms EMQX's
// file authorization reads, the user files as EMQX's importer reads them, and every hash with
// EMQX's algorithm recomputed here (itself checked against emqx_passwd_SUITE's vectors).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { EMQX_USERS_CSV_HEADER, emqxExport } from '../../../src-main/core/brokerExport/emqx'
import type { BrokerExportFile, BrokerExportInput, ExportedCertificate } from '../../../src-main/core/brokerExport/types'
import { makeFleet } from '../../helpers/fleet'
import { temporaryFolder } from '../../helpers/tools'

const require = createRequire(import.meta.url)
const parseHocon = require('@pushcorn/hocon-parser') as (options: { text: string; strict?: boolean }) => Promise<unknown>

// ---------------------------------------------------------------------------------------------
// EMQX's password hashing (apps/emqx/src/emqx_passwd.erl): hex(hash(salt ++ password)) for
// prefix, hex(hash(password ++ salt)) for suffix; the salt is used as the text it is.

function emqxHash(algorithm: 'md5' | 'sha1' | 'sha256' | 'sha512', salt: string, position: 'prefix' | 'suffix', password: string) {
  const data = position === 'prefix' ? salt + password : password + salt
  return createHash(algorithm).update(Buffer.from(data, 'utf8')).digest('hex')
}

describe("EMQX's password hash, recomputed", () => {
  it("matches emqx_passwd_SUITE's vectors (password 'password', salt 'salt')", () => {
    expect(emqxHash('md5', 'salt', 'prefix', 'password')).toBe('67a1e09bb1f83f5007dc119c14d663aa')
    expect(emqxHash('sha1', 'salt', 'prefix', 'password')).toBe('59b3e8d637cf97edbe2384cf59cb7453dfe30789')
    expect(emqxHash('sha256', 'salt', 'suffix', 'password')).toBe('7a37b85c8918eac19a9089c0fa5a2ab4dce3f90528dcdeec108b23ddf3607b99')
  })
})

// ---------------------------------------------------------------------------------------------
// A strict parser for the Erlang terms acl.conf uses (file:consult's subset): tuples, lists,
// atoms (bare or quoted), strings with escapes, integers, `%` comments, each form ended by `.`.

type Term = { atom: string } | { string: string } | { integer: number } | { tuple: Term[] } | { list: Term[] }

function parseErlangTerms(text: string): Term[] {
  let i = 0
  const fail = (what: string): never => {
    throw new Error(`acl.conf: ${what} at offset ${i}: ${JSON.stringify(text.slice(i, i + 30))}`)
  }
  const skip = () => {
    for (;;) {
      if (i < text.length && /\s/.test(text[i])) i++
      else if (text[i] === '%') while (i < text.length && text[i] !== '\n') i++
      else return
    }
  }
  const term = (): Term => {
    skip()
    const c = text[i]
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      i++
      const items: Term[] = []
      skip()
      if (text[i] === close) {
        i++
        return c === '{' ? { tuple: items } : { list: items }
      }
      for (;;) {
        items.push(term())
        skip()
        if (text[i] === ',') i++
        else if (text[i] === close) {
          i++
          return c === '{' ? { tuple: items } : { list: items }
        } else fail(`expected , or ${close}`)
      }
    }
    if (c === '"') {
      i++
      let value = ''
      for (;;) {
        const ch = text[i++]
        if (ch === undefined) fail('unterminated string')
        if (ch === '"') return { string: value }
        if (ch !== '\\') {
          if (ch < ' ' || ch > '~') fail('raw non-printable character in a string')
          value += ch
          continue
        }
        const escaped = text[i++]
        if (escaped === '"' || escaped === '\\') value += escaped
        else if (escaped === 'x' && text[i] === '{') {
          const end = text.indexOf('}', i)
          const hex = text.slice(i + 1, end)
          if (end < 0 || !/^[0-9A-Fa-f]{1,6}$/.test(hex)) fail('bad \\x{...} escape')
          value += String.fromCodePoint(parseInt(hex, 16))
          i = end + 1
        } else fail(`escape \\${escaped} not used by the export`)
      }
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1)
      if (end < 0) fail('unterminated quoted atom')
      const name = text.slice(i + 1, end)
      i = end + 1
      return { atom: name }
    }
    const bare = /^[a-z][A-Za-z0-9_@]*/.exec(text.slice(i))
    if (bare) {
      i += bare[0].length
      return { atom: bare[0] }
    }
    const integer = /^[0-9]+/.exec(text.slice(i))
    if (integer) {
      i += integer[0].length
      return { integer: Number(integer[0]) }
    }
    return fail('unexpected character')
  }
  const forms: Term[] = []
  for (skip(); i < text.length; skip()) {
    forms.push(term())
    skip()
    if (text[i] !== '.') fail('expected . after a form')
    i++
    if (i < text.length && !/\s/.test(text[i])) fail('expected whitespace after .')
  }
  return forms
}

/** An acl.conf rule as EMQX's emqx_authz_rule:compile accepts it, in the shapes the export writes. */
interface AclRule {
  permission: 'allow' | 'deny'
  who: 'all' | { username: string; clientid: string }
  action?: 'publish' | 'subscribe' | 'all'
  topics?: string[]
}

const atomOf = (t: Term) => ('atom' in t ? t.atom : undefined)
const stringOf = (t: Term) => ('string' in t ? t.string : undefined)

function aclRules(text: string): AclRule[] {
  return parseErlangTerms(text).map((form) => {
    if (!('tuple' in form)) throw new Error('a rule is a tuple')
    const [perm, who, action, topics, ...rest] = form.tuple
    const permission = atomOf(perm)
    if (permission !== 'allow' && permission !== 'deny') throw new Error(`bad permission ${JSON.stringify(perm)}`)
    if (form.tuple.length === 2) {
      if (atomOf(who) !== 'all') throw new Error('{perm, all} only')
      return { permission, who: 'all' }
    }
    if (rest.length > 0 || form.tuple.length !== 4) throw new Error('a rule has 2 or 4 elements')
    // who: {'and', [{username, "…"}, {clientid, "…"}]}
    if (!('tuple' in who) || atomOf(who.tuple[0]) !== 'and' || !('list' in who.tuple[1])) throw new Error('who is {and, [...]}')
    const conditions = who.tuple[1].list.map((c) => {
      if (!('tuple' in c) || c.tuple.length !== 2) throw new Error('a condition is a pair')
      const key = atomOf(c.tuple[0])
      const value = stringOf(c.tuple[1])
      if ((key !== 'username' && key !== 'clientid') || value === undefined) throw new Error('username or clientid with a string')
      return [key, value] as const
    })
    const byKey = Object.fromEntries(conditions)
    if (conditions.length !== 2 || byKey.username === undefined || byKey.clientid === undefined)
      throw new Error('one username, one clientid')
    const act = atomOf(action)
    if (act !== 'publish' && act !== 'subscribe' && act !== 'all') throw new Error(`bad action ${JSON.stringify(action)}`)
    if (!('list' in topics)) throw new Error('topics are a list')
    const topicStrings = topics.list.map((t) => {
      const s = stringOf(t)
      if (s === undefined) throw new Error('a topic is a string')
      return s
    })
    return { permission, who: { username: byKey.username, clientid: byKey.clientid }, action: act, topics: topicStrings }
  })
}

/** One line per form, the same from this parser and from Erlang: atoms, strings (as UTF-8 hex), tuples, lists. */
const canonical = (t: Term): string =>
  'atom' in t
    ? `A(${t.atom})`
    : 'integer' in t
      ? `I(${t.integer})`
      : 'string' in t
        ? `S(${Buffer.from(t.string, 'utf8').toString('hex').toUpperCase()})`
        : 'tuple' in t
          ? `T(${t.tuple.map(canonical).join(',')})`
          : `L(${t.list.map(canonical).join(',')})`

/**
 * Erlang itself, when installed (the Debian erlang-base that RabbitMQ brings): file:consult is
 * what EMQX's file authorization calls on acl.conf.
 */
const ERLANG_CONSULT = `
{ok, Terms} = file:consult(os:getenv("CERTDESK_ACL")),
F = fun F(T) when is_atom(T) -> ["A(", atom_to_list(T), ")"];
        F(T) when is_integer(T) -> ["I(", integer_to_list(T), ")"];
        F(T) when is_tuple(T) -> ["T(", lists:join(",", [F(X) || X <- tuple_to_list(T)]), ")"];
        F(T) when is_list(T) ->
          case T =/= [] andalso io_lib:printable_unicode_list(T) of
            true -> ["S(", binary:encode_hex(unicode:characters_to_binary(T)), ")"];
            false -> ["L(", lists:join(",", [F(X) || X <- T]), ")"]
          end
    end,
io:put_chars([[F(T), "\n"] || T <- Terms]),
halt().`

const erlangInstalled = (() => {
  try {
    execFileSync('erl', ['-noshell', '-eval', 'halt().'], {
      stdio: 'ignore',
      timeout: 20_000,
      env: { ...process.env, ERL_CRASH_DUMP_SECONDS: '0' },
    })
    return true
  } catch {
    return false
  }
})()

function erlangConsult(path: string): string[] {
  // No erl_crash.dump when consult refuses the file: the failure shows as the thrown error.
  const out = execFileSync('erl', ['-noshell', '-eval', ERLANG_CONSULT], {
    cwd: dirname(path),
    env: { ...process.env, CERTDESK_ACL: path, ERL_CRASH_DUMP_SECONDS: '0' },
    timeout: 30_000,
  })
  return out
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
}

// ---------------------------------------------------------------------------------------------
// EMQX's user import readers (emqx_authn_mnesia: by extension; emqx_utils_stream:csv splits
// lines on CR/LF and fields on commas, nullable mode, no quoting).

function emqxCsvUsers(text: string): Record<string, string>[] {
  const lines = text.split(/[\r\n]+/).filter((line) => line !== '')
  const headers = lines[0].split(/[, \n]+/).filter((h) => h !== '')
  return lines.slice(1).map((line) => {
    const fields = line.split(',').map((f) => f.trim())
    if (fields.length !== headers.length) throw new Error(`bad_format: ${line}`)
    return Object.fromEntries(headers.map((h, k) => [h, fields[k]]))
  })
}

// ---------------------------------------------------------------------------------------------

const fileOf = (files: BrokerExportFile[], path: string) => {
  const file = files.find((f) => f.path === path)
  if (!file) throw new Error(`no ${path}`)
  return file
}
const textOf = (files: BrokerExportFile[], path: string) => String(fileOf(files, path).contents)

/** Deterministic "random" bytes: a counter, so two exports with fresh counters are comparable. */
function countingBytes(seed: number) {
  let n = seed
  return (size: number) => Buffer.from(Array.from({ length: size }, () => n++ & 0xff))
}

const certificate = (cn: string, extra: Partial<ExportedCertificate> = {}): ExportedCertificate => ({
  name: `cert ${cn}`,
  cn,
  serial: '01',
  fingerprint256: 'AA:BB',
  status: 'active',
  enabled: true,
  notAfter: '2030-01-01T00:00:00.000Z',
  ...extra,
})

function handMadeInput(randomBytes = countingBytes(1)): BrokerExportInput {
  return {
    caPem: 'CA PEM\n',
    server: { certificatePem: 'SERVER PEM\n', privateKeyPem: 'SERVER KEY\n', names: ['mqtt.example.com'] },
    crl: { pem: 'CRL PEM\n', der: Buffer.from('crl') },
    // Out of order on purpose; one username has a comma, one a quote and a backslash.
    tokenDevices: [
      { deviceId: 'token-zz-0002', username: 'odd,user', deviceKey: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02' },
      { deviceId: 'token-aa-0001', username: 'plain-user', deviceKey: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01' },
      { deviceId: 'token-mm-0003', username: 'q"uo\\te', deviceKey: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03' },
    ],
    certificateDevices: [
      {
        deviceId: 'cert-device-0001',
        username: 'cert-user-1',
        certificates: [
          certificate('cn-active'),
          certificate('cn-revoked', { status: 'revoked' }),
          certificate('cn-disabled', { enabled: false }),
          certificate('cn-active'),
        ],
      },
      { deviceId: 'cert-device-0002', username: 'cert-user-2', certificates: [] },
    ],
    topicRules: [
      { action: 'publish', topic: 'devices/${clientid}/secret', permission: 'deny' },
      { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
      { action: 'subscribe', topic: 'users/${username}/inbox', permission: 'allow' },
      { action: 'all', topic: 'météo/+', permission: 'allow' },
      { action: 'all', topic: 'eq weird', permission: 'allow' },
    ],
    ports: { oneWay: 8883, mutual: 8884 },
    limits: { maxPacketBytes: 262_144, maxConnections: 1000, connectRatePerAddress: 20 },
    randomBytes,
  }
}

const get = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value)

describe('EMQX export from a hand-made input', () => {
  const input = handMadeInput()
  const files = emqxExport(input)

  it('writes its own files, the hashes secret', () => {
    expect(files.map((f) => [f.path, f.secret])).toEqual([
      ['emqx.conf', false],
      ['users.csv', true],
      ['users.json', true],
      ['acl.conf', false],
      ['README.md', false],
    ])
  })

  it('emqx.conf parses as HOCON with the listeners, zones, authentication and authorization EMQX reads', async () => {
    const conf = await parseHocon({ text: textOf(files, 'emqx.conf'), strict: true })
    const dir = '/etc/emqx/certs/certdesk'
    const expected: Record<string, unknown> = {
      'listeners.tcp.default.enable': false,
      'listeners.ssl.default.enable': false,
      'listeners.ws.default.enable': false,
      'listeners.wss.default.enable': false,
      'listeners.ssl.certdesk_one_way.bind': '0.0.0.0:8883',
      'listeners.ssl.certdesk_one_way.zone': 'certdesk_one_way',
      'listeners.ssl.certdesk_one_way.enable_authn': true,
      'listeners.ssl.certdesk_one_way.max_connections': 1000,
      'listeners.ssl.certdesk_one_way.ssl_options': {
        cacertfile: `${dir}/certs/ca.crt`,
        certfile: `${dir}/certs/server.crt`,
        keyfile: `${dir}/certs/server.key`,
        verify: 'verify_none',
      },
      'listeners.ssl.certdesk_mutual.bind': '0.0.0.0:8884',
      'listeners.ssl.certdesk_mutual.zone': 'certdesk_mutual',
      'listeners.ssl.certdesk_mutual.enable_authn': false,
      'listeners.ssl.certdesk_mutual.ssl_options': {
        cacertfile: `${dir}/certs/ca.crt`,
        certfile: `${dir}/certs/server.crt`,
        keyfile: `${dir}/certs/server.key`,
        verify: 'verify_peer',
        fail_if_no_peer_cert: true,
        enable_crl_check: true,
      },
      'zones.certdesk_mutual.mqtt.peer_cert_as_username': 'cn',
      'zones.certdesk_mutual.mqtt.max_packet_size': '256KB',
      'zones.certdesk_one_way.mqtt.max_packet_size': '256KB',
      'crl_cache.refresh_interval': '1m',
      authentication: [
        {
          mechanism: 'password_based',
          backend: 'built_in_database',
          user_id_type: 'username',
          password_hash_algorithm: { name: 'sha256', salt_position: 'prefix' },
          bootstrap_file: `${dir}/users.json`,
          bootstrap_type: 'hash',
        },
      ],
      authorization: { no_match: 'deny', sources: [{ type: 'file', enable: true, path: `${dir}/acl.conf` }] },
    }
    for (const [path, value] of Object.entries(expected)) expect(get(conf, path), path).toEqual(value)
    // Nothing else at the top: what is merged into emqx.conf is exactly this.
    expect(Object.keys(conf as object).sort()).toEqual(['authentication', 'authorization', 'crl_cache', 'listeners', 'zones'])
    expect(Object.keys(get(conf, 'listeners.ssl') as object).sort()).toEqual(['certdesk_mutual', 'certdesk_one_way', 'default'])
  })

  it('the HOCON check can fail: a broken snippet is refused', async () => {
    await expect(
      parseHocon({ text: textOf(files, 'emqx.conf').replace('ssl_options {', 'ssl_options {{'), strict: true }),
    ).rejects.toThrow()
  })

  it('puts paths under installDir when given', async () => {
    const conf = await parseHocon({
      text: textOf(emqxExport({ ...handMadeInput(), installDir: '/opt/emqx/certdesk/' }), 'emqx.conf'),
      strict: true,
    })
    expect(get(conf, 'authorization.sources')).toEqual([{ type: 'file', enable: true, path: '/opt/emqx/certdesk/acl.conf' }])
    expect(get(conf, 'listeners.ssl.certdesk_mutual.ssl_options.cacertfile')).toBe('/opt/emqx/certdesk/certs/ca.crt')
  })

  it("users.json and users.csv hold every token device's salted hash, verified with EMQX's algorithm", () => {
    const json = JSON.parse(textOf(files, 'users.json')) as Record<string, unknown>[]
    expect(json.map((u) => Object.keys(u))).toEqual(json.map(() => ['user_id', 'password_hash', 'salt', 'is_superuser']))
    // Sorted by device ID: token-aa-0001, token-mm-0003, token-zz-0002.
    expect(json.map((u) => u.user_id)).toEqual(['plain-user', 'q"uo\\te', 'odd,user'])
    for (const device of input.tokenDevices) {
      const user = json.find((u) => u.user_id === device.username)!
      expect(user.salt).toMatch(/^[0-9a-f]{32}$/)
      expect(user.password_hash).toBe(emqxHash('sha256', String(user.salt), 'prefix', device.deviceKey))
      expect(user.password_hash).not.toBe(emqxHash('sha256', String(user.salt), 'prefix', device.deviceKey + 'x'))
      expect(user.is_superuser).toBe(false)
    }
    const csv = textOf(files, 'users.csv')
    expect(csv.split('\n')[0]).toBe(EMQX_USERS_CSV_HEADER)
    expect(EMQX_USERS_CSV_HEADER).toBe('user_id,password_hash,salt,is_superuser')
    const rows = emqxCsvUsers(csv)
    // The comma username cannot be read back from EMQX's CSV, so it is only in users.json.
    expect(rows.map((r) => r.user_id)).toEqual(['plain-user', 'q"uo\\te'])
    for (const row of rows) {
      const fromJson = json.find((u) => u.user_id === row.user_id)!
      expect(row).toEqual({ user_id: fromJson.user_id, password_hash: fromJson.password_hash, salt: fromJson.salt, is_superuser: 'false' })
    }
    expect(textOf(files, 'README.md')).toContain("users.csv leaves out odd,user: EMQX's CSV reader cannot carry a comma")
  })

  it('acl.conf parses as Erlang terms: per-device blocks in rule order, {deny, all} last', () => {
    const rules = aclRules(textOf(files, 'acl.conf'))
    expect(rules.at(-1)).toEqual({ permission: 'deny', who: 'all' })
    const blockOf = (username: string, clientid: string) =>
      rules
        .filter((r) => r.who !== 'all' && r.who.username === username && r.who.clientid === clientid)
        .map((r) => [r.permission, r.action, r.topics])
    const expectedBlock = (clientid: string, username: string) => [
      ['deny', 'publish', [`devices/${clientid}/secret`]],
      ['allow', 'all', [`devices/${clientid}/#`]],
      ['allow', 'subscribe', [`users/${username}/inbox`]],
      ['allow', 'all', ['météo/+']],
      // 'eq weird' would be EMQX's exact-match form: an allow EMQX reads otherwise is left out.
    ]
    expect(blockOf('plain-user', 'token-aa-0001')).toEqual(expectedBlock('token-aa-0001', 'plain-user'))
    expect(blockOf('odd,user', 'token-zz-0002')).toEqual(expectedBlock('token-zz-0002', 'odd,user'))
    expect(blockOf('q"uo\\te', 'token-mm-0003')).toEqual(expectedBlock('token-mm-0003', 'q"uo\\te'))
    // The certificate device: only its active, enabled certificate's CN, once; ${username} is the device's.
    expect(blockOf('cn-active', 'cert-device-0001')).toEqual(expectedBlock('cert-device-0001', 'cert-user-1'))
    const certBlocks = rules.filter((r) => r.who !== 'all' && r.who.clientid.startsWith('cert-'))
    expect(new Set(certBlocks.map((r) => (r.who as { username: string }).username))).toEqual(new Set(['cn-active']))
    // Blocks follow device-ID order: token devices, then certificate devices.
    const order = [...new Set(rules.filter((r) => r.who !== 'all').map((r) => (r.who as { clientid: string }).clientid))]
    expect(order).toEqual(['token-aa-0001', 'token-mm-0003', 'token-zz-0002', 'cert-device-0001'])
  })

  it.skipIf(!erlangInstalled)('acl.conf reads back through Erlang file:consult as the same terms (skipped without erl)', async () => {
    const path = join(await temporaryFolder('certdesk-emqx-acl-'), 'acl.conf')
    writeFileSync(path, textOf(files, 'acl.conf'))
    const fromErlang = erlangConsult(path)
    expect(fromErlang).toEqual(parseErlangTerms(textOf(files, 'acl.conf')).map(canonical))
    expect(fromErlang.at(-1)).toBe('T(A(deny),A(all))')
    expect(fromErlang.some((line) => line.includes(Buffer.from('météo/+').toString('hex').toUpperCase()))).toBe(true)
  })

  it('the acl.conf parser can fail', () => {
    expect(() => aclRules('{allow, all, publish, ["a"]}')).toThrow(/expected \./)
    expect(() => aclRules('{allow, all, publish, ["a]}.')).toThrow()
    expect(() => aclRules('{maybe, all}.')).toThrow(/bad permission/)
    expect(() => aclRules('{allow, {\'and\', [{username, "u"}, {clientid, "c"}]}, pub, ["a"]}.')).toThrow(/bad action/)
  })

  it('a deny rule EMQX would read otherwise, or whose placeholder cannot be filled safely, denies everything', () => {
    const odd = handMadeInput()
    odd.tokenDevices = [{ deviceId: 'token-aa-0001', username: 'has/slash', deviceKey: 'k'.repeat(32) }]
    odd.certificateDevices = []
    odd.topicRules = [
      { action: 'all', topic: 'users/${username}/#', permission: 'deny' },
      { action: 'all', topic: 'users/${username}/x', permission: 'allow' },
      { action: 'publish', topic: 'eq x', permission: 'deny' },
    ]
    const rules = aclRules(textOf(emqxExport(odd), 'acl.conf'))
    expect(rules.map((r) => [r.permission, r.action, r.topics])).toEqual([
      ['deny', 'all', ['#']],
      ['deny', 'publish', ['#']],
      ['deny', undefined, undefined],
    ])
  })

  it('is deterministic apart from salts, and salts come from randomBytes', () => {
    const again = emqxExport(handMadeInput())
    expect(again).toEqual(files)
    const otherSalts = emqxExport(handMadeInput(countingBytes(100)))
    for (const path of ['emqx.conf', 'acl.conf', 'README.md']) expect(textOf(otherSalts, path)).toBe(textOf(files, path))
    expect(textOf(otherSalts, 'users.json')).not.toBe(textOf(files, 'users.json'))
  })

  it('the README has the twelve rules in order, each with a verdict', () => {
    const readme = textOf(files, 'README.md')
    const rows = readme.split('\n').filter((line) => /^\| \d+ \|/.test(line))
    expect(rows.map((row) => row.split(' | ')[1])).toEqual([
      "One-way TLS on 8883, the device checks the broker's certificate",
      'One-way: username and device key (password) of a token device',
      "One-way: client ID must be the token device's device ID",
      'Mutual TLS on 8884: a client certificate chained to the CA is required',
      'Revoked certificates are refused (CRL)',
      'Disabled certificates (availability switch off) are refused',
      'Expired or not-yet-valid certificates are refused',
      "The certificate must be bound to the certificate device whose device ID is the client ID, with that device's username",
      'Token devices cannot use 8884, certificate devices cannot use 8883',
      'Topic rules: ordered, first match wins, ${clientid}/${username}, default deny',
      'A revocation or unbinding drops a connected device at once',
      'Limits: largest packet, connections, connection rate per address',
    ])
    for (const row of rows) expect(['as Certdesk', 'approximately', 'not at all']).toContain(row.split(' | ')[2])
  })

  it('never writes a device key', () => {
    for (const file of files) for (const device of input.tokenDevices) expect(String(file.contents)).not.toContain(device.deviceKey)
  })
})

describe('EMQX export from a real workspace', () => {
  let input: BrokerExportInput
  let files: BrokerExportFile[]
  let fleet: Awaited<ReturnType<typeof makeFleet>>

  beforeAll(async () => {
    fleet = await makeFleet()
    input = { ...(await fleet.workspace.brokerExportInput(['localhost'])), randomBytes: countingBytes(7) }
    files = emqxExport(input)
  }, 60_000)

  it("hashes the token device's key so EMQX's check passes, and never writes the key", async () => {
    expect(input.tokenDevices.map((d) => d.deviceId)).toEqual([fleet.tokenDevice.deviceId])
    const [user] = emqxCsvUsers(textOf(files, 'users.csv'))
    expect(user.user_id).toBe(fleet.tokenDevice.username)
    expect(user.password_hash).toBe(emqxHash('sha256', user.salt, 'prefix', fleet.tokenDevice.deviceKey))
    for (const file of files) expect(String(file.contents)).not.toContain(fleet.tokenDevice.deviceKey)
    await expect(parseHocon({ text: textOf(files, 'emqx.conf'), strict: true })).resolves.toBeTruthy()
  })

  it("ties the bound certificate's CN to the certificate device's ID under the default rules", () => {
    const rules = aclRules(textOf(files, 'acl.conf'))
    const cn = fleet.certificate.cn
    expect(typeof cn).toBe('string')
    expect(rules.filter((r) => r.who !== 'all' && r.who.username === cn).map((r) => [r.who, r.permission, r.action, r.topics])).toEqual([
      [{ username: cn, clientid: fleet.certDevice.deviceId }, 'allow', 'all', [`devices/${fleet.certDevice.deviceId}/#`]],
      [{ username: cn, clientid: fleet.certDevice.deviceId }, 'allow', 'all', ['/hello']],
    ])
    expect(rules.at(-1)).toEqual({ permission: 'deny', who: 'all' })
  })

  it('is byte-identical for the same input and random bytes', () => {
    expect(emqxExport({ ...input, randomBytes: countingBytes(7) })).toEqual(files)
  })
})
