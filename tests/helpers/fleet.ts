import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { type RunningBroker, startBroker, type BrokerOptions } from '../../src-main/core/broker/broker'
import { loadIssuer } from '../../src-main/core/registry/rootCa'
import { RegistryStore } from '../../src-main/core/store/registryStore'
import { Workspace, type CertificateView, type DeviceWithKey } from '../../src-main/core/workspace'
import { command, temporaryFolder, whenFileEnds } from './tools'

export interface Fleet {
  folder: string
  workspace: Workspace
  tokenDevice: DeviceWithKey
  certDevice: DeviceWithKey
  certificate: CertificateView
  /** Unpacked bundle of `certificate`: `${bundleDir}/common_certs/...`. */
  bundleDir: string
  rootPem: string
}

/** A data folder with a token device, a cert device and a certificate bound to it, unpacked. */
export async function makeFleet(): Promise<Fleet> {
  const folder = await temporaryFolder('certdesk-fleet-')
  const workspace = await Workspace.initialise(join(folder, 'data'), { keyType: 'ec-p256' })
  const tokenDevice = await workspace.createDevice({ name: 'Token device', authType: 'token', deviceId: 'token-device-01' })
  const certDevice = await workspace.createDevice({ name: 'Cert device', authType: 'cert', deviceId: 'cert-device-01' })
  const issued = await workspace.issueDeviceCertificate({ name: 'Cert device certificate' })
  const certificate = await workspace.bindDevices(issued.id, [certDevice.deviceId])
  const bundleDir = await unpackBundle(workspace, certificate.id, join(folder, 'bundle'))
  return { folder, workspace, tokenDevice, certDevice, certificate, bundleDir, rootPem: await workspace.rootCertificatePem() }
}

export async function unpackBundle(workspace: Workspace, certificateId: string, into: string): Promise<string> {
  await mkdir(into, { recursive: true })
  await writeFile(join(into, 'bundle.zip'), await workspace.exportDeviceBundle(certificateId))
  await command('unzip', ['-oq', 'bundle.zip'], into)
  return into
}

/** The embedded broker on ephemeral loopback ports, closed when the test file ends. */
export async function runBroker(workspace: Workspace, options: BrokerOptions = {}): Promise<RunningBroker> {
  const broker = await startBroker(workspace, { oneWayPort: 0, mutualPort: 0, ...options })
  whenFileEnds(() => broker.close())
  return broker
}

/** The broker on ephemeral ports, saved as the folder's settings, so device profiles point at it. */
export async function runBrokerAsSettings(workspace: Workspace): Promise<RunningBroker> {
  const broker = await runBroker(workspace)
  await workspace.updateBrokerSettings({ oneWayPort: broker.oneWay.port, mutualPort: broker.mutual.port })
  return broker
}

/** Connects a real mqtt.js client; rejects with the broker's refusal. */
export function connect(port: number, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtts://localhost:${port}`, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    protocolVersion: 4,
    ...options,
  })
}

/** The seed's check: subscribe /hello, publish {"hello": "world"}, receive it back. */
export async function helloRoundTrip(client: MqttClient): Promise<string> {
  await client.subscribeAsync('/hello', { qos: 1 })
  const received = new Promise<string>((resolve) => client.once('message', (_topic, payload) => resolve(payload.toString())))
  await client.publishAsync('/hello', JSON.stringify({ hello: 'world' }), { qos: 1 })
  return received
}

/** Resolves when the client is closed by the other side, or rejects after `ms`. */
export function closedWithin(client: MqttClient, ms: number): Promise<number> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms)
    client.once('close', () => {
      clearTimeout(timer)
      resolve(Date.now() - start)
    })
  })
}

/** The fleet's root CA as an issuer, for tests that sign certificates the registry does not hold. */
export async function issuerOf(workspace: Workspace) {
  return loadIssuer(await RegistryStore.open(workspace.dataDir))
}
