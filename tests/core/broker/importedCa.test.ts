import { readFile } from 'node:fs/promises'
import AdmZip from 'adm-zip'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RunningBroker } from '../../../src-main/core/broker/broker'
import { Workspace } from '../../../src-main/core/workspace'
import { type ExternalCa, makeIntermediate, makeRoot } from '../../helpers/externalCa'
import { connect, helloRoundTrip, runBroker, unpackBundle } from '../../helpers/fleet'
import { openssl, temporaryFolder } from '../../helpers/tools'

// The embedded broker under an imported intermediate CA: it verifies device certificates against
// the chain, and sends its own chain so a device that trusts only the root verifies it.

let dir: string
let root: ExternalCa
let workspace: Workspace
let broker: RunningBroker
let bundle: { ca: Buffer; cert: Buffer; key: Buffer }
const certDevice = { deviceId: 'imported-device-01', username: '' }
const tokenDevice = { deviceId: 'imported-token-01', username: '', deviceKey: '' }

beforeAll(async () => {
  dir = await temporaryFolder('certdesk-imported-broker-')
  root = await makeRoot(dir, 'outside-root', { key: 'rsa' })
  const intermediate = await makeIntermediate(dir, 'outside-intermediate', root, { key: 'ec' })
  workspace = await Workspace.initialise(join(dir, 'data'), {
    imported: {
      certificatePem: (await readFile(intermediate.certificate, 'utf8')) + (await readFile(root.certificate, 'utf8')),
      privateKeyPem: await readFile(intermediate.key, 'utf8'),
    },
  })
  const device = await workspace.createDevice({ name: 'Imported device', authType: 'cert', deviceId: certDevice.deviceId })
  certDevice.username = device.username
  const token = await workspace.createDevice({ name: 'Token device', authType: 'token', deviceId: tokenDevice.deviceId })
  Object.assign(tokenDevice, { username: token.username, deviceKey: token.deviceKey })
  const issued = await workspace.issueDeviceCertificate({ name: 'Imported device certificate', days: 30 })
  await workspace.bindDevices(issued.id, [certDevice.deviceId])
  const certs = join(await unpackBundle(workspace, issued.id, join(dir, 'bundle')), 'common_certs')
  bundle = {
    ca: await readFile(join(certs, 'root_ca.crt')),
    cert: await readFile(join(certs, 'common.crt')),
    key: await readFile(join(certs, 'common.key')),
  }
  broker = await runBroker(workspace)
})

describe('the embedded broker under an imported intermediate CA', () => {
  it('accepts a device bundle with mutual TLS, root_ca.crt holding the chain', async () => {
    const client = await connect(broker.mutual.port, { clientId: certDevice.deviceId, username: certDevice.username, ...bundle })
    expect(await helloRoundTrip(client)).toBe('{"hello":"world"}')
    await client.endAsync()
    expect(broker.log.recent().at(-1)).toMatchObject({ listener: 'mutual', clientId: certDevice.deviceId, result: 'accepted' })
  })

  it('sends its chain: a client trusting only the outside root verifies the broker on both ports', async () => {
    const rootOnly = await readFile(root.certificate)
    const mutual = await connect(broker.mutual.port, {
      clientId: certDevice.deviceId,
      username: certDevice.username,
      ...bundle,
      ca: rootOnly,
    })
    await mutual.endAsync()
    const oneWay = await connect(broker.oneWay.port, {
      clientId: tokenDevice.deviceId,
      username: tokenDevice.username,
      password: tokenDevice.deviceKey,
      ca: rootOnly,
    })
    expect(await helloRoundTrip(oneWay)).toBe('{"hello":"world"}')
    await oneWay.endAsync()
    // And openssl, trusting the root alone, sees the chain verified.
    const shown = await openssl(
      ['s_client', '-connect', `127.0.0.1:${broker.oneWay.port}`, '-CAfile', root.certificate, '-verify_return_error', '-brief'],
      '',
    ).catch((error: Error) => error.message)
    expect(shown).not.toMatch(/verify error/)
  })

  it('exports the broker bundle with the chain in server.crt and root_ca.crt', async () => {
    const zip = await workspace.exportBrokerBundle()
    const entries = new AdmZip(zip)
    const server = entries.readAsText('broker_certs/server.crt')
    const rootCa = entries.readAsText('broker_certs/root_ca.crt')
    expect(server.match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
    expect(rootCa.match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
  })
})
