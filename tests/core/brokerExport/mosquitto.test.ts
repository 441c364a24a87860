import { type ChildProcess, spawn } from 'node:child_process'
import { pbkdf2Sync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { waitForPort } from '../../helpers/processes'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { exportForBroker } from '../../../src-main/core/brokerExport'
import { mosquittoExport } from '../../../src-main/core/brokerExport/mosquitto'
import type { BrokerExportFile, BrokerExportInput, ExportedCertificate } from '../../../src-main/core/brokerExport/types'
import { writeBrokerExport } from '../../../src-main/core/brokerExport/write'
import { readEarlierExport } from '../../../src-main/core/brokerExport/earlierExport'
import { makeDeviceRequest, makeRoot } from '../../helpers/externalCa'
import { type Fleet, closedWithin, connect, helloRoundTrip, makeFleet, unpackBundle } from '../../helpers/fleet'
import { runSeed, seedScript } from '../../helpers/seedScripts'
import { command, freePort, openssl, stopChild, temporaryFolder, whenFileEnds } from '../../helpers/tools'

const RULE_NAMES = [
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
]

function certificate(name: string, cn: string, serial: string, extra: Partial<ExportedCertificate> = {}): ExportedCertificate {
  return {
    name,
    cn,
    serial,
    fingerprint256: `${serial}:AA`,
    status: 'active',
    enabled: true,
    notAfter: '2030-01-01T00:00:00.000Z',
    ...extra,
  }
}

/** A small registry by hand: two token devices (one with its own username), one cert device with three certificates. */
function handMadeInput(overrides: Partial<BrokerExportInput> = {}): BrokerExportInput {
  return {
    caPem: 'CA PEM\n',
    server: { certificatePem: 'SERVER PEM\n', privateKeyPem: 'SERVER KEY\n', names: ['broker.example'] },
    crl: { pem: 'CRL PEM\n', der: Buffer.from('CRL') },
    tokenDevices: [
      { deviceId: 'token-b', username: 'user-b', deviceKey: 'KeyOfTokenB0123456789abcdefghijklmno' },
      { deviceId: 'token-a', username: 'token-a', deviceKey: 'KeyOfTokenA0123456789abcdefghijklmno' },
    ],
    certificateDevices: [
      {
        deviceId: 'cert-a',
        username: 'cert-user',
        certificates: [
          certificate('Active', 'cn-active', '0A'),
          certificate('Disabled', 'cn-disabled', '0B', { enabled: false }),
          certificate('Revoked', 'cn-revoked', '0C', { status: 'revoked' }),
        ],
      },
    ],
    topicRules: [
      { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
      { action: 'all', topic: '/hello', permission: 'allow' },
      { action: 'subscribe', topic: 'users/${username}/inbox', permission: 'allow' },
    ],
    ports: { oneWay: 8883, mutual: 8884 },
    limits: { maxPacketBytes: 262_144, maxConnections: 1000, connectRatePerAddress: 20 },
    randomBytes: (size) => Buffer.alloc(size, 7),
    ...overrides,
  }
}

const fileText = (files: BrokerExportFile[], path: string) => {
  const file = files.find((candidate) => candidate.path === path)
  expect(file, path).toBeDefined()
  return String(file?.contents)
}
/** The lines mosquitto acts on: no comments, no blank lines. */
const directives = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))

/** PBKDF2-HMAC-SHA512 as mosquitto 2.0 checks a `$7$` line (src/password_mosq.c), recomputed here. */
function verifiesAsMosquitto(line: string, username: string, password: string): boolean {
  const match = /^([^:]+):\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(line)
  if (!match || match[1] !== username) return false
  const salt = Buffer.from(match[3], 'base64')
  const hash = Buffer.from(match[4], 'base64')
  if (salt.length !== 12 || hash.length !== 64) return false
  return pbkdf2Sync(password, salt, Number(match[2]), 64, 'sha512').equals(hash)
}

describe('the mosquitto export of a hand-made registry', () => {
  const input = handMadeInput()
  const files = mosquittoExport(input)

  it('writes the configuration, passwords, an ACL file per listener and a README, the passwords secret', () => {
    expect(files.map((file) => [file.path, file.secret])).toEqual([
      ['mosquitto.conf', false],
      ['passwords', true],
      ['acl-one-way', false],
      ['acl-mutual', false],
      ['README.md', false],
    ])
  })

  it('configures the one-way and the mutual listener with paths under the default install folder', () => {
    const dir = '/etc/mosquitto/certdesk'
    const tls = [`certfile ${dir}/certs/server.crt`, `keyfile ${dir}/certs/server.key`, `cafile ${dir}/certs/ca.crt`]
    expect(directives(fileText(files, 'mosquitto.conf'))).toEqual([
      'per_listener_settings true',
      'max_packet_size 262144',
      'listener 8883',
      ...tls,
      'require_certificate false',
      'allow_anonymous false',
      `password_file ${dir}/passwords`,
      `acl_file ${dir}/acl-one-way`,
      'use_username_as_clientid true',
      'max_connections 1000',
      'listener 8884',
      ...tls,
      `crlfile ${dir}/certs/crl.pem`,
      'require_certificate true',
      'use_identity_as_username true',
      'allow_anonymous false',
      `acl_file ${dir}/acl-mutual`,
      'use_username_as_clientid true',
      'max_connections 1000',
    ])
    const elsewhere = mosquittoExport({ ...input, installDir: '/srv/mqtt', ports: { oneWay: 1883, mutual: 1884 } })
    const conf = fileText(elsewhere, 'mosquitto.conf')
    expect(conf).toContain('listener 1883\n')
    expect(conf).toContain('listener 1884\n')
    expect(conf).toContain('crlfile /srv/mqtt/certs/crl.pem\n')
    expect(conf).not.toContain('/etc/mosquitto')
  })

  it("writes each token device's key as mosquitto's PBKDF2-SHA512 hash, by device ID, and the key in no file", () => {
    const lines = directives(fileText(files, 'passwords'))
    expect(lines).toHaveLength(2)
    // Sorted by device ID: token-a first although it comes second in the input.
    expect(lines[0]).toMatch(/^token-a:\$7\$101\$BwcHBwcHBwcHBwcH\$/)
    expect(verifiesAsMosquitto(lines[0], 'token-a', input.tokenDevices[1].deviceKey)).toBe(true)
    expect(verifiesAsMosquitto(lines[1], 'user-b', input.tokenDevices[0].deviceKey)).toBe(true)
    expect(verifiesAsMosquitto(lines[1], 'user-b', 'a wrong key')).toBe(false)
    for (const file of files) {
      for (const device of input.tokenDevices) expect(String(file.contents), file.path).not.toContain(device.deviceKey)
    }
  })

  it("hashes exactly as Debian's mosquitto_passwd does, given its salt", async () => {
    const dir = await temporaryFolder('certdesk-mosquitto-passwd-')
    const key = input.tokenDevices[1].deviceKey
    await command('mosquitto_passwd', ['-b', '-c', join(dir, 'passwords'), 'token-a', key])
    const theirs = (await readFile(join(dir, 'passwords'), 'utf8')).trim()
    const salt = Buffer.from(theirs.split('$')[3], 'base64')
    const ours = mosquittoExport({ ...input, tokenDevices: [input.tokenDevices[1]], randomBytes: () => salt })
    expect(directives(fileText(ours, 'passwords'))).toEqual([theirs])
  })

  it("gives each token device's username its rules, with ${clientid} and ${username} filled in", () => {
    expect(directives(fileText(files, 'acl-one-way'))).toEqual([
      'user token-a',
      'topic readwrite devices/token-a/#',
      'topic readwrite /hello',
      'topic read users/token-a/inbox',
      'user user-b',
      'topic readwrite devices/token-b/#',
      'topic readwrite /hello',
      'topic read users/user-b/inbox',
    ])
  })

  it("gives the active, enabled certificate's common name its device's rules, and the disabled and revoked ones nothing", () => {
    const acl = fileText(files, 'acl-mutual')
    expect(directives(acl)).toEqual([
      'user cn-active',
      'topic readwrite devices/cert-a/#',
      'topic readwrite /hello',
      'topic read users/cert-user/inbox',
    ])
    expect(acl).toMatch(/^# .*"Disabled" serial 0B.*cn-disabled.*disabled/m)
    expect(acl).toMatch(/^# .*"Revoked" serial 0C.*cn-revoked.*revoked/m)
  })

  it('writes a deny before every allow, marking where that refuses more than Certdesk', () => {
    const rules = mosquittoExport(
      handMadeInput({
        topicRules: [
          { action: 'publish', topic: 'devices/+/status', permission: 'deny' },
          { action: 'all', topic: 'devices/${clientid}/#', permission: 'allow' },
          { action: 'subscribe', topic: 'devices/+/config', permission: 'deny' },
          { action: 'all', topic: 'fleet/${username}', permission: 'deny' },
          { action: 'all', topic: 'fleet/#', permission: 'allow' },
        ],
      }),
    )
    const acl = fileText(rules, 'acl-one-way')
    const block = acl.slice(acl.indexOf('user token-a'), acl.indexOf('user user-b'))
    expect(directives(block)).toEqual([
      'user token-a',
      'topic deny devices/+/status',
      'topic readwrite devices/token-a/#',
      'topic deny devices/+/config',
      'topic deny fleet/token-a',
      'topic readwrite fleet/#',
    ])
    // Rule 1 denies publish only, first: mosquitto's deny also refuses what rule 2 lets a device receive.
    expect(block).toMatch(/NARROWER.*no direction.*rule 1 shares with rule 2.*subscribe too/)
    // Rule 3 comes after rule 2, which allows subscribe on devices/token-a/config in Certdesk; and it has no direction.
    expect(block).toMatch(/NARROWER.*rule 2 comes first there and allows subscribe on topics it shares with rule 3/)
    expect(block).toMatch(/NARROWER.*rule 3 shares with rule 2 are refused for publish too/)
    // Rule 4 comes before the allow it overlaps, for both directions: as Certdesk, no note.
    expect(block.split('\n').filter((line) => line.includes('NARROWER'))).toHaveLength(3)
    expect(fileText(rules, 'README.md')).toContain('6 deny line(s) refuse more than Certdesk does')
  })

  it('leaves out token devices mosquitto cannot tell apart, and says so', () => {
    const shared = mosquittoExport(
      handMadeInput({
        tokenDevices: [
          { deviceId: 'twin-1', username: 'twin', deviceKey: 'k1' },
          { deviceId: 'twin-2', username: 'twin', deviceKey: 'k2' },
          { deviceId: 'colon', username: 'a:b', deviceKey: 'k3' },
          { deviceId: 'alone', username: 'alone', deviceKey: 'k4' },
        ],
      }),
    )
    expect(directives(fileText(shared, 'passwords')).map((line) => line.split(':')[0])).toEqual(['alone'])
    expect(directives(fileText(shared, 'acl-one-way')).filter((line) => line.startsWith('user '))).toEqual(['user alone'])
    const readme = fileText(shared, 'README.md')
    expect(readme).toContain('Token device twin-1 (username "twin"): its username is also twin-2\'s')
    expect(readme).toContain('Token device colon (username "a:b")')
  })

  it("says when a token device's username is also a certificate's common name: mosquitto gives them one session", () => {
    const clash = mosquittoExport(handMadeInput({ tokenDevices: [{ deviceId: 'token-c', username: 'cn-active', deviceKey: 'k5' }] }))
    expect(fileText(clash, 'README.md')).toContain(`Username "cn-active" is a token device's and a certificate's common name`)
  })

  it('is the same bytes for the same registry and salts, and differs only in the password hashes otherwise', () => {
    const again = mosquittoExport(handMadeInput())
    expect(again).toEqual(files)
    const salted = mosquittoExport(handMadeInput({ randomBytes: (size) => Buffer.alloc(size, 9) }))
    expect(salted.filter((file) => file.path !== 'passwords')).toEqual(files.filter((file) => file.path !== 'passwords'))
    expect(fileText(salted, 'passwords')).not.toBe(fileText(files, 'passwords'))
  })

  it("has a README with the rule-by-rule table in the seed's order, and how to apply it", () => {
    const readme = fileText(files, 'README.md')
    const rows = readme.split('\n').filter((line) => /^\| \d+ \|/.test(line))
    expect(rows.map((row) => row.split(' | ')[1].replace(/\\\|/g, '|'))).toEqual(RULE_NAMES)
    for (const row of rows) {
      // Five columns: number, rule, as Certdesk, approximately, not at all; at least one verdict filled.
      const cells = row.split(/(?<!\\)\|/).slice(1, -1)
      expect(cells, row).toHaveLength(5)
      expect(
        cells.slice(2).some((cell) => cell.trim() !== ''),
        row,
      ).toBe(true)
    }
    expect(readme).toContain('| # | Certdesk rule | As Certdesk | Approximately (how) | Not at all |')
    expect(readme).toContain('/etc/mosquitto/conf.d/certdesk.conf')
    expect(readme).toContain('chown -R root:mosquitto /etc/mosquitto/certdesk')
    expect(readme).toContain('certdesk ca crl --out /etc/mosquitto/certdesk/certs/crl.pem --force')
    expect(readme).toContain('`listener 8883 ADDRESS` binds one address only')
    expect(readme).toContain('Certificate "Disabled" (serial 0B): disabled')
  })
})

/** mosquitto drops to its own user when started as root: let it read the (test) folder. */
async function readableByAll(path: string): Promise<void> {
  if ((await stat(path)).isDirectory()) {
    await chmod(path, 0o755)
    for (const entry of await readdir(path)) await readableByAll(join(path, entry))
  } else {
    await chmod(path, 0o644)
  }
}

describe("Debian's mosquitto started from the export, with the seed's paho examples", () => {
  let fleet: Fleet
  let ports: { oneWay: number; mutual: number }
  let revokedBundle: string
  let disabledBundle: string
  let foreignBundle: string
  let exportDir: string
  let mosquitto: ChildProcess
  let log = ''

  beforeAll(async () => {
    fleet = await makeFleet()
    const { workspace, folder } = fleet
    // A certificate bound to its own device, revoked before the export: the export's CRL lists it.
    const revokedDevice = await workspace.createDevice({ name: 'Revoked', authType: 'cert', deviceId: 'revoked-device-01' })
    const revoked = await workspace.issueDeviceCertificate({ name: 'Revoked certificate' })
    await workspace.bindDevices(revoked.id, [revokedDevice.deviceId])
    revokedBundle = await unpackBundle(workspace, revoked.id, join(folder, 'revoked-bundle'))
    await workspace.revokeCertificate(revoked.id, 'keyCompromise')
    // A valid certificate, bound, with the availability switch off.
    const disabledDevice = await workspace.createDevice({ name: 'Disabled', authType: 'cert', deviceId: 'disabled-device-01' })
    const disabled = await workspace.issueDeviceCertificate({ name: 'Disabled certificate' })
    await workspace.bindDevices(disabled.id, [disabledDevice.deviceId])
    disabledBundle = await unpackBundle(workspace, disabled.id, join(folder, 'disabled-bundle'))
    await workspace.updateCertificate(disabled.id, { enabled: false })
    // A device certificate from another CA, with Certdesk's root to check the broker by.
    foreignBundle = join(folder, 'foreign-bundle')
    await mkdir(join(foreignBundle, 'common_certs'), { recursive: true })
    const other = await makeRoot(foreignBundle, 'other-ca')
    const certs = join(foreignBundle, 'common_certs')
    await makeDeviceRequest(join(certs, 'common.key'), join(foreignBundle, 'device.csr'), ['-subj', '/CN=cert-device-01'])
    await openssl(
      ['x509', '-req', '-in', join(foreignBundle, 'device.csr'), '-CA', other.certificate, '-CAkey', other.key].concat([
        '-set_serial',
        '0x1234',
        '-days',
        '30',
        '-out',
        join(certs, 'common.crt'),
      ]),
    )
    await copyFile(join(fleet.bundleDir, 'common_certs/root_ca.crt'), join(certs, 'root_ca.crt'))

    // The export, written as `certdesk export broker` writes it, for a folder on this machine.
    const root = await temporaryFolder('certdesk-mosquitto-export-')
    const dir = join(root, 'certdesk')
    exportDir = dir
    ports = { oneWay: await freePort(), mutual: await freePort() }
    const input = await workspace.brokerExportInput(['localhost'])
    await writeBrokerExport(dir, exportForBroker('mosquitto', { ...input, installDir: dir, ports }))
    // What an operator does on a shared test machine: bind loopback only, log to the terminal.
    const confPath = join(dir, 'mosquitto.conf')
    let conf = await readFile(confPath, 'utf8')
    for (const port of [ports.oneWay, ports.mutual]) {
      expect(conf).toContain(`\nlistener ${port}\n`)
      conf = conf.replace(`\nlistener ${port}\n`, `\nlistener ${port} 127.0.0.1\n`)
    }
    await writeFile(confPath, `log_dest stderr\nlog_type all\n${conf}`)
    await chmod(root, 0o755)
    await readableByAll(dir)

    const child = (mosquitto = spawn(existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto', ['-c', confPath]))
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    whenFileEnds(() => stopChild(child))
    await waitForPort(ports.oneWay, { what: 'mosquitto', describe: () => log })
    await waitForPort(ports.mutual, { what: 'mosquitto', describe: () => log })
  }, 60_000)

  const oneWay = (key: string, dir: string) =>
    seedScript(
      'one_way.py',
      [
        ["'6198289b38939358305813fe41551483b1f0'", `'${fleet.tokenDevice.deviceId}'`],
        ["'2312686198f5722ef570b855694655f1b475'", `'${key}'`],
        ["'iot.actorcloud.io'", "'localhost'"],
        ['PORT = 8883', `PORT = ${ports.oneWay}`],
      ],
      dir,
    )
  const twoWay = (bundle: string, deviceId: string) =>
    seedScript(
      'two_way.py',
      [
        ["'ef14be2cfd2f555397bde858750cbda8'", `'${deviceId}'`],
        ["'iot.actorcloud.io'", "'localhost'"],
        ['PORT = 8884', `PORT = ${ports.mutual}`],
      ],
      bundle,
    )
  // The one-way example trusts the system's CA store; point OpenSSL's default store at Certdesk's root.
  const trustRoot = () => ({ SSL_CERT_FILE: join(fleet.bundleDir, 'common_certs/root_ca.crt') })
  /** A seed example against mosquitto: 10 s is ample on loopback. */
  const seed = (script: string, cwd: string, options: Parameters<typeof runSeed>[2] = {}) =>
    runSeed(script, cwd, { timeoutMs: 10_000, ...options })

  it("one-way TLS passes with a token device's key", async () => {
    const dir = await temporaryFolder('certdesk-one-way-')
    const run = await seed(await oneWay(fleet.tokenDevice.deviceKey, dir), dir, { env: trustRoot() })
    expect(run.output).toContain('Connected with result code 0')
    expect(run.echoed, run.output).toBe(true)
  })

  it('one-way TLS fails with a wrong key', async () => {
    const dir = await temporaryFolder('certdesk-one-way-wrong-')
    const run = await seed(await oneWay(`${fleet.tokenDevice.deviceKey}x`, dir), dir, { env: trustRoot() })
    expect(run.echoed).toBe(false)
    expect(run.output).toMatch(/Connected with result code 5/)
  })

  it("mutual TLS passes with a bound certificate's bundle", async () => {
    const run = await seed(await twoWay(fleet.bundleDir, fleet.certDevice.deviceId), fleet.bundleDir)
    expect(run.output).toContain('Connected with result code 0')
    expect(run.echoed, run.output).toBe(true)
  })

  it("mutual TLS fails with a revoked certificate's bundle: the CRL refuses it", async () => {
    const run = await seed(await twoWay(revokedBundle, 'revoked-device-01'), revokedBundle)
    expect(run.echoed).toBe(false)
    expect(run.output).not.toContain('Connected with result code')
    expect(run.output).toMatch(/SSL|certificate/i)
    // mosquitto logs only "certificate verify failed"; the exported files say why, and that only the CRL refuses it.
    expect(log).toMatch(/certificate verify failed/)
    const [ca, crl, leaf] = [
      join(exportDir, 'certs/ca.crt'),
      join(exportDir, 'certs/crl.pem'),
      join(revokedBundle, 'common_certs/common.crt'),
    ]
    await expect(openssl(['verify', '-CAfile', ca, '-crl_check', '-CRLfile', crl, leaf])).rejects.toThrow(/certificate revoked/)
    expect(await openssl(['verify', '-CAfile', ca, leaf])).toContain(': OK')
  })

  it('refuses even a good certificate once the CRL is past its next update, as the README warns', async () => {
    const [ca, crl, leaf] = [
      join(exportDir, 'certs/ca.crt'),
      join(exportDir, 'certs/crl.pem'),
      join(fleet.bundleDir, 'common_certs/common.crt'),
    ]
    const nextUpdate = new Date((await openssl(['crl', '-in', crl, '-noout', '-nextupdate'])).replace(/^nextUpdate=/, '').trim())
    const check = (at: Date) =>
      openssl(['verify', '-attime', String(Math.floor(at.getTime() / 1000)), '-CAfile', ca, '-crl_check', '-CRLfile', crl, leaf])
    expect(await check(new Date())).toContain(': OK')
    await expect(check(new Date(nextUpdate.getTime() + 86_400_000))).rejects.toThrow(/CRL has expired/)
  })

  it('mutual TLS fails with a certificate from another CA', async () => {
    const run = await seed(await twoWay(foreignBundle, fleet.certDevice.deviceId), foreignBundle)
    expect(run.echoed).toBe(false)
    expect(run.output).not.toContain('Connected with result code')
    expect(log).toMatch(/certificate verify failed|unable to get local issuer certificate/i)
  })

  it('a disabled certificate connects but gets no topic: its /hello never comes back', async () => {
    const before = log.length
    // Done once mosquitto has refused its publish (the echo cannot come after that); 15 s at most.
    const run = await seed(await twoWay(disabledBundle, 'disabled-device-01'), disabledBundle, {
      timeoutMs: 15_000,
      until: (output) => output.includes('Connected with result code 0') && /Denied PUBLISH from /.test(log.slice(before)),
    })
    expect(run.output).toContain('Connected with result code 0')
    expect(run.echoed).toBe(false)
    expect(log.slice(before)).toMatch(/Denied PUBLISH from /)
  })

  // Last: it revokes the fleet's certificate and changes the token device's key.
  it('after a re-export and a reload, a changed key is disconnected, a revoked certificate keeps its connection without topics', async () => {
    const common = (name: string) => readFile(join(fleet.bundleDir, 'common_certs', name))
    const tlsOptions = { ca: await common('root_ca.crt'), servername: 'localhost' }
    const token = await connect(ports.oneWay, {
      ...tlsOptions,
      clientId: fleet.tokenDevice.deviceId,
      username: fleet.tokenDevice.username,
      password: fleet.tokenDevice.deviceKey,
    })
    const device = await connect(ports.mutual, {
      ...tlsOptions,
      cert: await common('common.crt'),
      key: await common('common.key'),
      clientId: fleet.certDevice.deviceId,
      username: fleet.certDevice.username,
    })
    whenFileEnds(() => Promise.all([token.endAsync(true), device.endAsync(true)]))
    expect(await helloRoundTrip(device)).toBe(JSON.stringify({ hello: 'world' }))

    await fleet.workspace.revokeCertificate(fleet.certificate.id)
    await fleet.workspace.regenerateDeviceKey(fleet.tokenDevice.deviceId)
    // The operator's routine: export what changed since the installed folder, copy the files
    // CHANGES.md lists over it, reload.
    const fresh = join(await temporaryFolder('certdesk-mosquitto-reexport-'), 'certdesk')
    const changes = await fleet.workspace.exportChangesForBroker(
      'mosquitto',
      await readEarlierExport(exportDir, 'mosquitto'),
      { hosts: ['localhost'], installDir: exportDir, ports },
      async (files) => {
        await writeBrokerExport(fresh, files)
        return true
      },
    )
    expect(changes.users).toEqual({ added: [], changed: [fleet.tokenDevice.username], removed: [fleet.certificate.cn] })
    const listed = (await readFile(join(fresh, 'CHANGES.md'), 'utf8')).match(/^Copy over the installed folder[^]*?\n\n((?:- `[^`]+`\n)+)/m)
    const toCopy = [...(listed?.[1] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1])
    // mosquitto.conf differs (this test edited it): CHANGES.md says to merge it by hand, not to copy it.
    expect(toCopy.sort()).toEqual(['acl-mutual', 'certs/crl.pem', 'passwords'])
    for (const file of toCopy) {
      await copyFile(join(fresh, file), join(exportDir, file))
      await chmod(join(exportDir, file), 0o644)
    }
    const tokenClosed = closedWithin(token, 5_000)
    const before = log.length
    mosquitto.kill('SIGHUP')
    await tokenClosed
    expect(log.slice(before)).toMatch(/Reloading config/)

    // The certificate device is still connected, but nothing it publishes comes back.
    expect(device.connected).toBe(true)
    const received = new Promise<string>((resolve) => device.once('message', (_topic, payload) => resolve(payload.toString())))
    await device.publishAsync('/hello', 'after the reload', { qos: 0 })
    const outcome = await Promise.race([received, new Promise((resolve) => setTimeout(() => resolve('nothing'), 1_500))])
    expect(outcome).toBe('nothing')
    expect(log.slice(before)).toContain(`Denied PUBLISH from ${fleet.certificate.cn}`)
    // A new connection with that certificate meets the reloaded CRL.
    const run = await seed(await twoWay(fleet.bundleDir, fleet.certDevice.deviceId), fleet.bundleDir)
    expect(run.echoed).toBe(false)
    expect(run.output).not.toContain('Connected with result code')
  })
})
