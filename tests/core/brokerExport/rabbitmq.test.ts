import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { type BrokerExportFile, type BrokerExportInput, exportForBroker } from '../../../src-main/core/brokerExport'
import { crlIssuerHash, rabbitmqPasswordHash } from '../../../src-main/core/brokerExport/rabbitmq'
import { writeBrokerExport } from '../../../src-main/core/brokerExport/write'
import { readEarlierExport } from '../../../src-main/core/brokerExport/earlierExport'
import { makeRoot, makeIntermediate } from '../../helpers/externalCa'
import { type Fleet, closedWithin, connect, makeFleet, unpackBundle } from '../../helpers/fleet'
import { type RabbitNode, formCluster, startRabbitNodes } from '../../helpers/rabbitmq'
import { runSeed, seedScript } from '../../helpers/seedScripts'
import { freePort, openssl, temporaryFolder } from '../../helpers/tools'

/** Salts from a counter: two exports with the same counter are byte-identical. */
function countingBytes(seed = 1): (size: number) => Buffer {
  let next = seed
  return (size) => Buffer.from(Array.from({ length: size }, () => next++ % 256))
}

interface Definitions {
  users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[] }[]
  vhosts: { name: string }[]
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[]
  topic_permissions: { user: string; vhost: string; exchange: string; write: string; read: string }[]
}

const fileText = (files: BrokerExportFile[], path: string) => {
  const file = files.find((candidate) => candidate.path === path)
  if (!file) throw new Error(`no ${path} in the export`)
  return file.contents.toString()
}

let fleet: Fleet
let input: BrokerExportInput
/** The unpacked bundle of a certificate bound to the cert device, then revoked. */
let revokedDir: string
let revokedCn: string
/** The unpacked bundle of a certificate bound to the cert device, then disabled (availability switch off). */
let disabledDir: string

beforeAll(async () => {
  fleet = await makeFleet()
  const revoked = await fleet.workspace.issueDeviceCertificate({ name: 'Revoked certificate' })
  await fleet.workspace.bindDevices(revoked.id, [fleet.certDevice.deviceId])
  revokedDir = await unpackBundle(fleet.workspace, revoked.id, join(fleet.folder, 'revoked'))
  revokedCn = (await fleet.workspace.revokeCertificate(revoked.id)).cn
  const disabled = await fleet.workspace.issueDeviceCertificate({ name: 'Disabled certificate' })
  await fleet.workspace.bindDevices(disabled.id, [fleet.certDevice.deviceId])
  disabledDir = await unpackBundle(fleet.workspace, disabled.id, join(fleet.folder, 'disabled'))
  await fleet.workspace.updateCertificate(disabled.id, { enabled: false })
  input = await fleet.workspace.brokerExportInput(['localhost'])
})

describe('the RabbitMQ export', () => {
  it("hashes token devices' keys as rabbit_password_hashing_sha256 does: base64(salt ++ sha256(salt ++ key))", () => {
    const files = exportForBroker('rabbitmq', { ...input, randomBytes: countingBytes() })
    const definitions = JSON.parse(fileText(files, 'definitions.json')) as Definitions
    const user = definitions.users.find((candidate) => candidate.name === fleet.tokenDevice.username)
    expect(user?.hashing_algorithm).toBe('rabbit_password_hashing_sha256')
    const stored = Buffer.from(user?.password_hash ?? '', 'base64')
    expect(stored).toHaveLength(4 + 32)
    const salt = stored.subarray(0, 4)
    expect(stored.subarray(4)).toEqual(
      createHash('sha256')
        .update(Buffer.concat([salt, Buffer.from(fleet.tokenDevice.deviceKey)]))
        .digest(),
    )
    expect(rabbitmqPasswordHash('wrong key', salt)).not.toBe(user?.password_hash)
    // The certificate device logs in as its certificate's common name, with no password; the revoked one has no user.
    const certUser = definitions.users.find((candidate) => candidate.name === fleet.certificate.cn)
    expect(certUser).toMatchObject({ password_hash: '', tags: [] })
    expect(definitions.users.some((candidate) => candidate.name === revokedCn)).toBe(false)
    expect(fileText(files, 'README.md')).toContain(`rabbitmqctl delete_user '${revokedCn}'`)
  })

  it('writes no device key anywhere, secrets 0600', async () => {
    const files = exportForBroker('rabbitmq', input)
    for (const file of files) expect(file.contents.toString(), file.path).not.toContain(fleet.tokenDevice.deviceKey)
    expect(files.filter((file) => file.secret).map((file) => file.path)).toEqual(['certs/server.key', 'definitions.json'])
  })

  it('is deterministic apart from salts', () => {
    const first = exportForBroker('rabbitmq', { ...input, randomBytes: countingBytes() })
    const second = exportForBroker('rabbitmq', { ...input, randomBytes: countingBytes() })
    expect(second).toEqual(first)
    const salted = exportForBroker('rabbitmq', { ...input, randomBytes: countingBytes(9) })
    expect(salted.filter((file) => file.path !== 'definitions.json')).toEqual(first.filter((file) => file.path !== 'definitions.json'))
  })

  it('names the CRL by the hash openssl gives its issuer', async () => {
    const hash = (await openssl(['x509', '-hash', '-noout'], input.caPem)).trim()
    expect(crlIssuerHash(input.crl.der)).toBe(hash)
    expect((await openssl(['crl', '-hash', '-noout'], input.crl.pem)).trim()).toBe(hash)
    expect(exportForBroker('rabbitmq', input).map((file) => file.path)).toContain(`crl/${hash}.r0`)
  })

  it("gives no user to a certificate whose common name is a token device's username, and never asks to delete that user", () => {
    const [device] = input.certificateDevices
    const clash = { ...device.certificates[0], cn: fleet.tokenDevice.username }
    const revokedClash = { ...clash, status: 'revoked' as const }
    const files = exportForBroker('rabbitmq', {
      ...input,
      certificateDevices: [{ ...device, certificates: [...device.certificates, clash, revokedClash] }],
    })
    const definitions = JSON.parse(fileText(files, 'definitions.json')) as Definitions
    const named = definitions.users.filter((user) => user.name === fleet.tokenDevice.username)
    expect(named).toHaveLength(1)
    expect(named[0].password_hash).not.toBe('')
    const readme = fileText(files, 'README.md')
    expect(readme).not.toContain(`delete_user '${fleet.tokenDevice.username}'`)
    expect(readme).toContain('**Warning**')
  })

  it('turns the ordered topic rules into one routing-key pattern per access', () => {
    const rules = [
      { action: 'all', topic: 'devices/${clientid}/secret', permission: 'deny' },
      { action: 'publish', topic: 'devices/${clientid}/#', permission: 'allow' },
      { action: 'subscribe', topic: 'fleet/+/status', permission: 'allow' },
      { action: 'all', topic: '/hello', permission: 'allow' },
    ] as const
    const files = exportForBroker('rabbitmq', { ...input, topicRules: rules })
    const definitions = JSON.parse(fileText(files, 'definitions.json')) as Definitions
    const mine = definitions.topic_permissions.find((permission) => permission.user === fleet.tokenDevice.username)
    expect(mine?.exchange).toBe('amq.topic')
    const write = new RegExp(mine?.write ?? '')
    const read = new RegExp(mine?.read ?? '')
    const own = `devices.${fleet.tokenDevice.deviceId}`
    expect(write.test(own)).toBe(true)
    expect(write.test(`${own}.x.y`)).toBe(true)
    expect(write.test(`${own}.secret`)).toBe(false)
    expect(write.test('devices.someone-else.x')).toBe(false)
    expect(write.test('.hello')).toBe(true)
    expect(write.test('fleet.a.status')).toBe(false)
    expect(read.test('fleet.*.status')).toBe(true)
    expect(read.test('fleet.#')).toBe(false)
    expect(read.test(`${own}.#`)).toBe(false)
    expect(read.test('.hello')).toBe(true)
    const certUser = definitions.permissions.find((permission) => permission.user === fleet.certificate.cn)
    expect(new RegExp(certUser?.configure ?? '').test(`mqtt-subscription-${fleet.certDevice.deviceId}qos1`)).toBe(true)
  })
})

// ---- The proof: a two-node RabbitMQ cluster on loopback, loaded from the export.

let exportDir: string
let nodes: RabbitNode[] = []
/** Why the nodes did not form a cluster, if they did not. */
let clusterError: Error | undefined
let runningNodes: string[] = []
let strangerDir: string

describe('a two-node RabbitMQ cluster loaded from the export', () => {
  beforeAll(async () => {
    const folder = await temporaryFolder('certdesk-rabbitmq-export-')
    exportDir = join(folder, 'export')
    const files = exportForBroker('rabbitmq', {
      ...input,
      installDir: exportDir,
      ports: { oneWay: await freePort(), mutual: await freePort() },
    })
    await writeBrokerExport(exportDir, files)
    // A client certificate from another CA, in a bundle laid out as Certdesk's (the fleet's root to check the broker).
    strangerDir = join(folder, 'stranger')
    await mkdir(join(strangerDir, 'common_certs'), { recursive: true })
    const otherRoot = await makeRoot(strangerDir, 'other-root')
    const stranger = await makeIntermediate(strangerDir, 'stranger', otherRoot)
    await copyFile(join(fleet.bundleDir, 'common_certs/root_ca.crt'), join(strangerDir, 'common_certs/root_ca.crt'))
    await copyFile(stranger.certificate, join(strangerDir, 'common_certs/common.crt'))
    await copyFile(stranger.key, join(strangerDir, 'common_certs/common.key'))

    nodes = await startRabbitNodes(exportDir, 2)
    try {
      runningNodes = await formCluster(nodes)
    } catch (error) {
      clusterError = error as Error
    }
    // Definitions are cluster-wide: one import. Unclustered nodes each need their own.
    for (const node of clusterError ? nodes : nodes.slice(0, 1)) {
      await node.ctl(['import_definitions', join(exportDir, 'definitions.json')])
    }
  }, 150_000)

  it('the nodes form one cluster', () => {
    expect(clusterError?.message).toBeUndefined()
    expect(runningNodes).toEqual(nodes.map((node) => node.name).sort())
  })

  const oneWay = async (node: RabbitNode, key: string) => {
    const script = await seedScript(
      'one_way.py',
      [
        ["'6198289b38939358305813fe41551483b1f0'", `'${fleet.tokenDevice.deviceId}'`],
        ["'2312686198f5722ef570b855694655f1b475'", `'${key}'`],
        ["'iot.actorcloud.io'", "'localhost'"],
        ['PORT = 8883', `PORT = ${node.oneWayPort}`],
      ],
      await temporaryFolder('certdesk-seed-'),
    )
    // The example trusts the system's CA store; point OpenSSL's default store at Certdesk's root.
    return runSeed(script, fleet.bundleDir, { env: { SSL_CERT_FILE: join(fleet.bundleDir, 'common_certs/root_ca.crt') } })
  }

  /** The two-way example from `bundleDir`; `sendUsername: false` is the one change RabbitMQ needs (see the README). */
  const twoWay = async (node: RabbitNode, bundleDir: string, sendUsername = false) => {
    const script = await seedScript(
      'two_way.py',
      [
        ...(sendUsername ? [] : ([["username = 'ef14be2cfd2f555397bde858750cbda8'", 'username = None']] as [string, string][])),
        ["'ef14be2cfd2f555397bde858750cbda8'", `'${fleet.certDevice.deviceId}'`],
        ["'iot.actorcloud.io'", "'localhost'"],
        ['PORT = 8884', `PORT = ${node.mutualPort}`],
      ],
      await temporaryFolder('certdesk-seed-'),
    )
    return runSeed(script, bundleDir)
  }

  for (const index of [0, 1]) {
    describe(`node ${index + 1}`, () => {
      it("one-way: the seed's example passes with the token device's key and fails with a wrong one", async () => {
        const node = nodes[index]
        const passed = await oneWay(node, fleet.tokenDevice.deviceKey)
        expect(passed.echoed, passed.output).toBe(true)
        expect(passed.connack).toBe(0)
        const refused = await oneWay(node, 'not-the-device-key')
        expect(refused.echoed, refused.output).toBe(false)
        expect([4, 5], refused.output).toContain(refused.connack)
      })

      it("two-way: the seed's example passes with the bound certificate's bundle", async () => {
        const passed = await twoWay(nodes[index], fleet.bundleDir)
        expect(passed.echoed, passed.output).toBe(true)
        expect(passed.connack).toBe(0)
      })

      it('two-way: a revoked certificate is refused by the CRL, in the TLS handshake', async () => {
        const refused = await twoWay(nodes[index], revokedDir)
        expect(refused.echoed, refused.output).toBe(false)
        expect(refused.connack, refused.output).toBeUndefined()
        expect(refused.output).toMatch(/revoked/i)
      })

      it('two-way: a certificate from another CA is refused in the TLS handshake', async () => {
        const refused = await twoWay(nodes[index], strangerDir)
        expect(refused.echoed, refused.output).toBe(false)
        expect(refused.connack, refused.output).toBeUndefined()
        expect(refused.output).toMatch(/unknown ca|certificate/i)
      })
    })
  }

  it('RabbitMQ refuses the unchanged two-way example: a username without a password (README, rule 8)', async () => {
    const refused = await twoWay(nodes[0], fleet.bundleDir, true)
    expect(refused.echoed, refused.output).toBe(false)
    expect([4, 5], refused.output).toContain(refused.connack)
  })

  it('a disabled certificate passes TLS but has no user: the login is refused (rule 6)', async () => {
    const refused = await twoWay(nodes[1], disabledDir)
    expect(refused.echoed, refused.output).toBe(false)
    expect([4, 5], refused.output).toContain(refused.connack)
  })

  it("topic permissions: a device gets its own topics, not another device's; another client ID gets no subscription", async () => {
    const ca = await readFile(join(fleet.bundleDir, 'common_certs/root_ca.crt'))
    const as = (clientId: string) =>
      connect(nodes[0].oneWayPort, { clientId, username: fleet.tokenDevice.username, password: fleet.tokenDevice.deviceKey, ca })
    const device = await as(fleet.tokenDevice.deviceId)
    expect(await device.subscribeAsync(`devices/${fleet.tokenDevice.deviceId}/#`, { qos: 1 })).toEqual([
      { topic: `devices/${fleet.tokenDevice.deviceId}/#`, qos: 1 },
    ])
    // RabbitMQ 3.10 answers a refused subscription or publish by closing the connection.
    await expect(device.subscribeAsync('devices/someone-else/#', { qos: 1 })).rejects.toThrow()
    expect(device.connected).toBe(false)
    await device.endAsync(true)
    const publisher = await as(fleet.tokenDevice.deviceId)
    const closed = closedWithin(publisher, 5_000)
    publisher.publish('devices/someone-else/x', 'not yours', { qos: 0 })
    await closed
    await publisher.endAsync(true)
    // The subscription queues are the device ID's: a client with another ID cannot subscribe.
    const renamed = await as('not-the-device-id')
    await expect(renamed.subscribeAsync('/hello', { qos: 1 })).rejects.toThrow()
    await renamed.endAsync(true)
  })

  it('a message published through one node reaches a subscriber on the other', async () => {
    const ca = await readFile(join(fleet.bundleDir, 'common_certs/root_ca.crt'))
    const subscriber = await connect(nodes[1].oneWayPort, {
      clientId: fleet.tokenDevice.deviceId,
      username: fleet.tokenDevice.username,
      password: fleet.tokenDevice.deviceKey,
      ca,
    })
    try {
      await subscriber.subscribeAsync('/hello', { qos: 1 })
      const received = new Promise<string>((resolve) => subscriber.once('message', (_topic, payload) => resolve(payload.toString())))
      const publisher = await connect(nodes[0].mutualPort, {
        clientId: fleet.certDevice.deviceId,
        ca,
        cert: await readFile(join(fleet.bundleDir, 'common_certs/common.crt')),
        key: await readFile(join(fleet.bundleDir, 'common_certs/common.key')),
      })
      try {
        await publisher.publishAsync('/hello', 'across the cluster', { qos: 1 })
        expect(await received).toBe('across the cluster')
      } finally {
        await publisher.endAsync()
      }
    } finally {
      await subscriber.endAsync()
    }
  })

  it('a CRL replaced on a running node is used by the next handshake; a stale one refuses every certificate (rule 5)', async () => {
    const crlFile = join(exportDir, 'crl', `${crlIssuerHash(input.crl.der)}.r0`)
    const current = await readFile(crlFile)
    const stale = await fleet.workspace.generateCrl({ now: new Date(Date.now() - 10 * 86_400_000), days: 1 })
    await writeFile(crlFile, stale.pem)
    try {
      const refused = await twoWay(nodes[0], fleet.bundleDir)
      expect(refused.echoed, refused.output).toBe(false)
      expect(refused.connack, refused.output).toBeUndefined()
    } finally {
      await writeFile(crlFile, current)
    }
    const passed = await twoWay(nodes[0], fleet.bundleDir)
    expect(passed.echoed, passed.output).toBe(true)
  })

  it('rule 11, as the README says: on RabbitMQ 3.10 neither close_all_user_connections nor delete_user drops a connected device', async () => {
    const device = await connect(nodes[0].oneWayPort, {
      clientId: fleet.tokenDevice.deviceId,
      username: fleet.tokenDevice.username,
      password: fleet.tokenDevice.deviceKey,
      ca: await readFile(join(fleet.bundleDir, 'common_certs/root_ca.crt')),
    })
    try {
      const listed = await nodes[0].ctl(['list_mqtt_connections', 'client_id', 'user', '--quiet', '--no-table-headers'])
      expect(listed.trim().split(/\s+/)).toEqual([fleet.tokenDevice.deviceId, fleet.tokenDevice.username])
      await nodes[1].ctl(['close_all_user_connections', fleet.tokenDevice.username, 'revoked'])
      await nodes[1].ctl(['delete_user', fleet.tokenDevice.username])
      await expect(closedWithin(device, 2_000)).rejects.toThrow('still connected')
    } finally {
      await device.endAsync(true)
      await nodes[0].ctl(['import_definitions', join(exportDir, 'definitions.json')])
    }
  })

  it('a re-export since the installed folder, applied as CHANGES.md says, admits a new token device on either node and refuses a removed one', async () => {
    const added = await fleet.workspace.createDevice({ name: 'Added later', authType: 'token', deviceId: 'added-later-01' })
    await fleet.workspace.deleteDevice(fleet.tokenDevice.deviceId)
    const changesDir = join(await temporaryFolder('certdesk-rabbitmq-changes-'), 'changes')
    const changes = await fleet.workspace.exportChangesForBroker(
      'rabbitmq',
      await readEarlierExport(exportDir, 'rabbitmq'),
      { hosts: ['localhost'], installDir: exportDir },
      async (files) => {
        await writeBrokerExport(changesDir, files)
        return true
      },
    )
    expect(changes.users).toEqual({ added: [added.username], changed: [], removed: [fleet.tokenDevice.username] })
    const text = await readFile(join(changesDir, 'CHANGES.md'), 'utf8')
    // What CHANGES.md says to copy, then its rabbitmqctl lines in order, run as written.
    const listed = text.match(/^Copy over the installed folder[^]*?\n\n((?:- `[^`]+`\n)+)/m)
    const toCopy = [...(listed?.[1] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1])
    expect(toCopy).toContain('definitions.json')
    for (const file of toCopy) await copyFile(join(changesDir, file), join(exportDir, file))
    const commands = [...text.matchAll(/rabbitmqctl ([^`\n]+)/g)].map((match) =>
      [...match[1].matchAll(/'([^']*)'|(\S+)/g)].map((word) => word[1] ?? word[2]),
    )
    expect(commands).toEqual([
      ['import_definitions', join(exportDir, 'definitions.json')],
      ['delete_user', '--', fleet.tokenDevice.username],
    ])
    for (const command of commands) await nodes[0].ctl(command)

    const ca = await readFile(join(fleet.bundleDir, 'common_certs/root_ca.crt'))
    const device = await connect(nodes[1].oneWayPort, { clientId: added.deviceId, username: added.username, password: added.deviceKey, ca })
    await device.endAsync(true)
    const refused = await oneWay(nodes[0], fleet.tokenDevice.deviceKey)
    expect(refused.echoed, refused.output).toBe(false)
    expect([4, 5], refused.output).toContain(refused.connack)
  })
})
