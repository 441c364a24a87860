import { bindDevices, unbindDevices } from './registry/bindings'
import {
  type CertificateUpdate,
  type DeviceCertificateInput,
  type IssueOptions,
  deleteCertificate,
  issueDeviceCertificate,
  issueDeviceCertificates,
  listCertificates,
  updateCertificate,
} from './registry/certificates'
import {
  type DeviceInput,
  type DeviceUpdate,
  createDevice,
  deleteDevice,
  listDevices,
  regenerateDeviceKey,
  updateDevice,
} from './registry/devices'
import { findCertificate, findDevice } from './registry/lookup'
import { ROOT_CA_RECORD_ID, type RootCaOptions, initialiseRootCa, loadIssuer, rootCaView } from './registry/rootCa'
import { type CertificateView, type DeviceView, type RootCaView, certificateView, deviceView } from './registry/views'
import { buildBrokerBundle, buildDeviceBundle } from './bundles/deviceBundle'
import { RegistryStore } from './store/registryStore'
import type { BrokerSettings, StoreData, TesterProfileRecord } from './store/schema'
import { deleteTesterProfile, listTesterProfiles, saveTesterProfile } from './tester/savedProfiles'
import { brokerSettings, updateBrokerSettings } from './broker/settings'
import { type ServerCertificateMaterial, ensureServerCertificate, serverNames } from './broker/serverCertificate'

export type { CertificateView, DeviceView, RootCaView }

/**
 * The core's one entry point: every front door (CLI, Electron main, browser mode) opens a
 * Workspace on a data folder and calls these methods. Nothing here knows about Electron.
 */
export class Workspace {
  private issuer: ReturnType<typeof loadIssuer> | undefined
  private rootPem: Promise<string> | undefined

  private constructor(private readonly store: RegistryStore) {}

  static async open(dataDir: string, options: { passphrase?: string } = {}): Promise<Workspace> {
    return new Workspace(await RegistryStore.open(dataDir, options))
  }

  /** `ca init`: creates the data folder with its root CA. */
  static async initialise(dataDir: string, options: RootCaOptions = {}): Promise<Workspace> {
    return new Workspace(await initialiseRootCa(dataDir, options))
  }

  get dataDir(): string {
    return this.store.dataDir
  }

  rootCa(): RootCaView {
    return rootCaView(this.store.read(), this.store.dataDir)
  }

  /** The root certificate never changes after `ca init`, so it is read once. */
  rootCertificatePem(): Promise<string> {
    this.rootCa()
    this.rootPem ??= this.store.readCertificatePem(ROOT_CA_RECORD_ID)
    this.rootPem.catch(() => (this.rootPem = undefined))
    return this.rootPem
  }

  /** The CA's key is decrypted once per workspace; the root never changes after `ca init`. */
  private loadIssuer(): ReturnType<typeof loadIssuer> {
    this.issuer ??= loadIssuer(this.store)
    this.issuer.catch(() => (this.issuer = undefined))
    return this.issuer
  }

  async issueDeviceCertificate(input: DeviceCertificateInput): Promise<CertificateView> {
    return issueDeviceCertificate(this.store, await this.loadIssuer(), input)
  }

  /** Many certificates in one all-or-nothing step, using every core: batch provisioning. */
  async issueDeviceCertificates(
    inputs: readonly DeviceCertificateInput[],
    options: IssueOptions = {},
  ): Promise<CertificateView[]> {
    return issueDeviceCertificates(this.store, await this.loadIssuer(), inputs, options)
  }

  listCertificates(): CertificateView[] {
    return listCertificates(this.store.read())
  }

  getCertificate(reference: string): CertificateView {
    const data = this.store.read()
    return certificateView(data, findCertificate(data, reference))
  }

  certificatePem(reference: string): Promise<string> {
    return this.store.readCertificatePem(this.getCertificate(reference).id)
  }

  updateCertificate(reference: string, update: CertificateUpdate): Promise<CertificateView> {
    return updateCertificate(this.store, reference, update)
  }

  deleteCertificate(reference: string): Promise<CertificateView> {
    return deleteCertificate(this.store, reference)
  }

  createDevice(input: DeviceInput): Promise<DeviceView> {
    return createDevice(this.store, input)
  }

  listDevices(): DeviceView[] {
    return listDevices(this.store.read())
  }

  getDevice(reference: string): DeviceView {
    const data = this.store.read()
    return deviceView(data, findDevice(data, reference))
  }

  updateDevice(reference: string, update: DeviceUpdate): Promise<DeviceView> {
    return updateDevice(this.store, reference, update)
  }

  regenerateDeviceKey(reference: string): Promise<DeviceView> {
    return regenerateDeviceKey(this.store, reference)
  }

  deleteDevice(reference: string): Promise<DeviceView> {
    return deleteDevice(this.store, reference)
  }

  bindDevices(certificateReference: string, deviceReferences: readonly string[]): Promise<CertificateView> {
    return bindDevices(this.store, certificateReference, deviceReferences)
  }

  unbindDevices(certificateReference: string, deviceReferences: readonly string[]): Promise<CertificateView> {
    return unbindDevices(this.store, certificateReference, deviceReferences)
  }

  /** The registry as it is on disk now; shared and read-only (the broker decides from it). */
  snapshot(): StoreData {
    return this.store.read()
  }

  brokerSettings(): BrokerSettings {
    return brokerSettings(this.store)
  }

  updateBrokerSettings(update: Partial<BrokerSettings>): Promise<BrokerSettings> {
    return updateBrokerSettings(this.store, update)
  }

  /** The embedded broker's server certificate for its names, issued or re-issued as needed. */
  async ensureBrokerServerCertificate(extraNames: string[] = []): Promise<ServerCertificateMaterial> {
    return ensureServerCertificate(this.store, () => this.loadIssuer(), serverNames(extraNames))
  }

  /** `broker_certs/server.crt`, `server.key`, `root_ca.crt`: the broker's TLS identity. */
  async exportBrokerBundle(extraNames: string[] = []): Promise<Buffer> {
    const material = await this.ensureBrokerServerCertificate(extraNames)
    return buildBrokerBundle({ ...material, rootCertificatePem: await this.rootCertificatePem() })
  }

  listTesterProfiles(): TesterProfileRecord[] {
    return listTesterProfiles(this.store)
  }

  saveTesterProfile(name: string, request: Record<string, unknown>): Promise<TesterProfileRecord> {
    return saveTesterProfile(this.store, name, request)
  }

  deleteTesterProfile(id: string): Promise<TesterProfileRecord> {
    return deleteTesterProfile(this.store, id)
  }

  /** A certificate with its private key, for the tester in the main process (never the page). */
  async certificateMaterial(reference: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
    return this.store.readRecordMaterial(this.getCertificate(reference).id)
  }

  /** The seed's zip (`common_certs/…`) for one certificate; the only way a device key leaves. */
  async exportDeviceBundle(reference: string): Promise<Buffer> {
    const certificate = this.getCertificate(reference)
    const [{ certificatePem, privateKeyPem }, rootCertificatePem] = await Promise.all([
      this.store.readRecordMaterial(certificate.id),
      this.rootCertificatePem(),
    ])
    return buildDeviceBundle({ certificatePem, privateKeyPem, rootCertificatePem })
  }
}
