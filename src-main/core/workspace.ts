import { bindDevices, unbindDevices } from './registry/bindings'
import {
  type CertificateUpdate,
  type DeviceCertificateInput,
  type IssueOptions,
  assertNotRevoked,
  deleteCertificate,
  issueDeviceCertificate,
  issueDeviceCertificates,
  type CertificateRequestInput,
  type RenewOptions,
  type SignedRequest,
  listCertificates,
  renewCertificate,
  revokeCertificate,
  signCertificateRequest,
  updateCertificate,
} from './registry/certificates'
import {
  type ProfileInput,
  type ProfileUpdate,
  type ProfileView,
  createProfile,
  deleteProfile,
  findProfile,
  listProfiles,
  updateProfile,
} from './registry/profiles'
import {
  type DeviceInput,
  type DeviceUpdate,
  createDevice,
  deleteDevice,
  listDevices,
  regenerateDeviceKey,
  revealDeviceKey,
  updateDevice,
} from './registry/devices'
import { type CrlOptions, type GeneratedCrl, generateCrl } from './registry/crl'
import { findCertificate, findDevice } from './registry/lookup'
import { ROOT_CA_RECORD_ID, type RootCaOptions, initialiseRootCa, loadIssuer, rootCaView, setCrlDistributionPoint } from './registry/rootCa'
import { type CertificateView, type DeviceView, type DeviceWithKey, type RootCaView, certificateView, deviceView } from './registry/views'
import { buildBrokerBundle, buildDeviceBundle } from './bundles/deviceBundle'
import {
  type CertificateExportOptions,
  type ExportFormat,
  KEY_FORMATS,
  certificateDerExport,
  certificatePemExport,
  chainExport,
  pkcs12Export,
  privateKeyExport,
} from './bundles/certificateExports'
import { CertdeskError, isCertdeskError } from './errors'
import { type ProvisioningOptions, type ProvisioningPlan, planProvisioning } from './provisioning/plan'
import { type ProvisioningResult, type ProvisioningRunOptions, provision } from './provisioning/provision'
import { provisioningZip, writeProvisioningFolder } from './provisioning/output'
import { intermediateCertificates } from './pki/importedCa'
import { registryForExport } from './brokerExport/input'
import { exportForBroker } from './brokerExport'
import { type BrokerExportChanges, type EarlierExport, changesSince } from './brokerExport/changes'
import { parseBrokerTarget, validateInstallDir } from './brokerExport/options'
import type { BrokerExportFile, BrokerExportInput, BrokerExportOptions, BrokerTarget } from './brokerExport/types'
import { message } from './messages'
import { type AuditEvent, auditContext, readAuditLog, verifyAuditLog } from './store/audit'
import { RegistryStore, type StoreOptions } from './store/registryStore'
import type { VaultProtection } from './store/vault'
import type {
  AuditLog,
  BrokerSettings,
  DeviceRecord,
  RevocationReason,
  VaultState,
  StoreData,
  TesterProfileRecord,
  TopicRule,
} from './store/schema'
import { deleteTesterProfile, listTesterProfiles, saveTesterProfile } from './tester/savedTesterProfiles'
import { type TopicRuleSet, brokerSettings, resetTopicRules, topicRuleSet, updateBrokerSettings, updateTopicRules } from './broker/settings'
import { type ServerCertificateMaterial, ensureServerCertificate, serverNames } from './broker/serverCertificate'

export type { CertificateView, DeviceView, DeviceWithKey, ProfileView, RootCaView, SignedRequest }

/**
 * The core's one entry point: every front door (CLI, Electron main, browser mode) opens a
 * Workspace on a data folder and calls these methods. Nothing here knows about Electron.
 */
export class Workspace {
  private issuer: ReturnType<typeof loadIssuer> | undefined
  private rootPem: Promise<string> | undefined
  private readonly issuersByCrlUrl = new Map<string, Awaited<ReturnType<typeof loadIssuer>>>()

  private constructor(private readonly store: RegistryStore) {}

  /** `actor` names the front door in the audit log: cli, app or browser. */
  static async open(dataDir: string, options: StoreOptions = {}): Promise<Workspace> {
    return new Workspace(await RegistryStore.open(dataDir, options))
  }

  /** `ca init`: creates the data folder with its root CA; `ca import` (options.imported): with an existing CA. */
  static async initialise(dataDir: string, options: RootCaOptions = {}): Promise<Workspace> {
    return new Workspace(await initialiseRootCa(dataDir, options))
  }

  get dataDir(): string {
    return this.store.dataDir
  }

  getRootCa(): RootCaView {
    return rootCaView(this.store.read(), this.store.dataDir)
  }

  /**
   * The root certificate (PEM), read once: it never changes after `ca init`. For an imported
   * intermediate CA, the CA certificate followed by its chain up to the root: what root_ca.crt holds.
   */
  rootCertificatePem(): Promise<string> {
    this.getRootCa()
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

  /**
   * The issuer for device certificates: the CA with the CRL distribution point set now, if any
   * (read at each issue, so a change applies to the next certificate). One object per URL, so
   * the issuer's parsed parts stay cached.
   */
  private async deviceIssuer(): Promise<Awaited<ReturnType<typeof loadIssuer>>> {
    const issuer = await this.loadIssuer()
    const url = this.store.read().rootCa?.crlDistributionPoint
    if (url === undefined) return issuer
    let withUrl = this.issuersByCrlUrl.get(url)
    if (!withUrl) {
      withUrl = { ...issuer, crlDistributionPoint: url }
      this.issuersByCrlUrl.set(url, withUrl)
    }
    return withUrl
  }

  /** Sets (a URL) or clears (null) the CRL distribution point written into device certificates issued from now on. */
  setCrlDistributionPoint(url: string | null): Promise<RootCaView> {
    return audited({ action: 'ca.crl-url', target: () => url ?? '(none)' }, () => setCrlDistributionPoint(this.store, url))
  }

  async issueDeviceCertificate(input: DeviceCertificateInput): Promise<CertificateView> {
    const issuer = await this.deviceIssuer()
    return audited({ action: 'certificate.issue', target: idsOf }, () => issueDeviceCertificate(this.store, issuer, input))
  }

  /** Many certificates in one all-or-nothing step, using every core: batch provisioning. */
  async issueDeviceCertificates(inputs: readonly DeviceCertificateInput[], options: IssueOptions = {}): Promise<CertificateView[]> {
    const issuer = await this.deviceIssuer()
    return audited({ action: 'certificate.issue', target: idsOf }, () => issueDeviceCertificates(this.store, issuer, inputs, options))
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
    return audited({ action: 'certificate.update', target: idsOf, detail: { ...update } }, () =>
      updateCertificate(this.store, reference, update),
    )
  }

  deleteCertificate(reference: string): Promise<CertificateView> {
    return audited({ action: 'certificate.delete', target: idsOf }, () => deleteCertificate(this.store, reference))
  }

  /** Final: the certificate stays, revoked (with when and why), and the broker refuses it from then on. */
  revokeCertificate(reference: string, reason: RevocationReason = 'unspecified'): Promise<CertificateView> {
    return audited({ action: 'certificate.revoke', target: idsOf, detail: { reason } }, () =>
      revokeCertificate(this.store, reference, reason),
    )
  }

  /** A new certificate for the same subject, bound where the old one is (see registry/certificates). */
  async renewCertificate(reference: string, options: RenewOptions = {}): Promise<CertificateView> {
    const issuer = await this.deviceIssuer()
    return audited({ action: 'certificate.renew', target: idsOf, detail: { ...options, reference } }, () =>
      renewCertificate(this.store, issuer, reference, options),
    )
  }

  /** A certificate for a device's own key, from its request; Certdesk holds no private key for it. */
  async signCertificateRequest(input: CertificateRequestInput): Promise<SignedRequest> {
    const issuer = await this.deviceIssuer()
    const { csr: _request, ...detail } = input
    return audited({ action: 'certificate.sign-request', target: idsOf, detail }, () => signCertificateRequest(this.store, issuer, input))
  }

  listProfiles(): ProfileView[] {
    return listProfiles(this.store.read())
  }

  getProfile(name: string): ProfileView {
    return findProfile(this.store.read(), name)
  }

  createProfile(input: ProfileInput): Promise<ProfileView> {
    return audited({ action: 'profile.create', target: nameOf, detail: { ...input } }, () => createProfile(this.store, input))
  }

  updateProfile(name: string, update: ProfileUpdate): Promise<ProfileView> {
    return audited({ action: 'profile.update', target: nameOf, detail: { ...update } }, () => updateProfile(this.store, name, update))
  }

  deleteProfile(name: string): Promise<ProfileView> {
    return audited({ action: 'profile.delete', target: nameOf }, () => deleteProfile(this.store, name))
  }

  /** A v2 CRL of the revoked certificates, signed by the CA; each one uses up a CRL number. */
  async generateCrl(options: CrlOptions = {}): Promise<GeneratedCrl> {
    const issuer = await this.loadIssuer()
    return audited({ action: 'ca.crl', target: (result) => `CRL ${(result as { crlNumber: number }).crlNumber}` }, () =>
      generateCrl(this.store, issuer, options),
    )
  }

  /** The new device, with its generated device key (shown once; `revealDeviceKey` later). */
  createDevice(input: DeviceInput): Promise<DeviceWithKey> {
    return audited({ action: 'device.create', target: deviceIdOf, detail: { authType: input.authType } }, () =>
      createDevice(this.store, input),
    )
  }

  revealDeviceKey(reference: string): Promise<string> {
    return revealDeviceKey(this.store, reference)
  }

  /** How the keys are protected and whether they are open (the unlock screen asks this first). */
  getVaultState(): Promise<VaultState> {
    return this.store.vaultState()
  }

  /** The unlock screen: opens a passphrase-protected vault for this process. */
  async unlockVault(passphrase: string): Promise<VaultState> {
    await this.store.unlockWithPassphrase(passphrase)
    return this.store.vaultState()
  }

  /** The unlocked vault key, for the desktop app's broker process only (it cannot reach the OS keychain). */
  vaultKeyForBrokerProcess(): Promise<Buffer> {
    return this.store.vaultKeyForBrokerProcess()
  }

  /** Re-wraps the vault key: a new passphrase, the OS keychain, or a key file. */
  async changeKeyProtection(target: VaultProtection): Promise<VaultState> {
    await this.store.changeProtection(target)
    return this.store.vaultState()
  }

  /** Lets synchronous readers (the broker) open sealed device keys; fails if the vault is locked. */
  unlock(): Promise<void> {
    return this.store.unlock()
  }

  /** A device key in the clear; synchronous, after `unlock()` (the broker decides per CONNECT). */
  deviceKeyOf(device: DeviceRecord): string {
    return this.store.openDeviceKey(device)
  }

  listDevices(): DeviceView[] {
    return listDevices(this.store.read())
  }

  getDevice(reference: string): DeviceView {
    const data = this.store.read()
    return deviceView(data, findDevice(data, reference))
  }

  updateDevice(reference: string, update: DeviceUpdate): Promise<DeviceView> {
    return audited({ action: 'device.update', target: deviceIdOf, detail: { ...update } }, () =>
      updateDevice(this.store, reference, update),
    )
  }

  regenerateDeviceKey(reference: string): Promise<DeviceWithKey> {
    return audited({ action: 'device.regenerate-key', target: deviceIdOf }, () => regenerateDeviceKey(this.store, reference))
  }

  deleteDevice(reference: string): Promise<DeviceView> {
    return audited({ action: 'device.delete', target: deviceIdOf }, () => deleteDevice(this.store, reference))
  }

  bindDevices(certificateReference: string, deviceReferences: readonly string[]): Promise<CertificateView> {
    return audited({ action: 'binding.add', target: idsOf, detail: { devices: [...deviceReferences] } }, () =>
      bindDevices(this.store, certificateReference, deviceReferences),
    )
  }

  unbindDevices(certificateReference: string, deviceReferences: readonly string[]): Promise<CertificateView> {
    return audited({ action: 'binding.remove', target: idsOf, detail: { devices: [...deviceReferences] } }, () =>
      unbindDevices(this.store, certificateReference, deviceReferences),
    )
  }

  /** The registry as it is on disk now; shared and read-only (the broker decides from it). */
  snapshot(): StoreData {
    return this.store.read()
  }

  getBrokerSettings(): BrokerSettings {
    return brokerSettings(this.store)
  }

  updateBrokerSettings(update: Partial<BrokerSettings>): Promise<BrokerSettings> {
    return audited({ action: 'broker.settings', detail: { ...update } }, () => updateBrokerSettings(this.store, update))
  }

  /** The rules and whether they are the defaults (none saved). */
  getTopicRules(): TopicRuleSet {
    return topicRuleSet(this.store)
  }

  /** Replaces the topic rules after checking each; a running broker applies them within a second. */
  updateTopicRules(rules: readonly TopicRule[]): Promise<TopicRuleSet> {
    return audited({ action: 'broker.topic-rules', detail: { rules: rules.length } }, () => updateTopicRules(this.store, rules))
  }

  resetTopicRules(): Promise<TopicRuleSet> {
    return audited({ action: 'broker.topic-rules', detail: { reset: true } }, () => resetTopicRules(this.store))
  }

  /** The embedded broker's server certificate for its names, issued or re-issued as needed. */
  async ensureBrokerServerCertificate(extraNames: string[] = []): Promise<ServerCertificateMaterial> {
    const names = serverNames(extraNames)
    return audited({ action: 'broker.identity', target: names.join(' ') }, () =>
      ensureServerCertificate(this.store, () => this.loadIssuer(), names),
    )
  }

  /**
   * `broker_certs/server.crt`, `server.key`, `root_ca.crt`: the broker's TLS identity. With
   * `deliver`, the export is written to the audit log once `deliver` says it arrived.
   */
  async exportBrokerBundle(extraNames: string[] = [], deliver: Deliver = async () => true): Promise<Buffer> {
    const material = await this.ensureBrokerServerCertificate(extraNames)
    const rootCertificatePem = await this.rootCertificatePem()
    // server.crt carries an imported intermediate CA's chain, as the embedded broker sends it.
    const certificatePem = material.certificatePem + intermediateCertificates(rootCertificatePem)
    const zip = buildBrokerBundle({ ...material, certificatePem, rootCertificatePem })
    if (await deliver(zip)) await this.recordKeyExport('broker.export', material.record.recordId)
    return zip
  }

  /**
   * What an export for a production broker is made from (`brokerExport/`): the CA, a server
   * identity for `hosts` (the embedded broker's, as `exportBrokerBundle` issues it), a fresh CRL,
   * and the devices with their certificates; token devices' keys in the clear, to be hashed.
   */
  async brokerExportInput(hosts: string[] = []): Promise<BrokerExportInput> {
    const server = await this.ensureBrokerServerCertificate(hosts)
    const caPem = await this.rootCertificatePem()
    const crl = await this.generateCrl()
    return registryForExport(this.store, {
      caPem,
      server: {
        certificatePem: server.certificatePem + intermediateCertificates(caPem),
        privateKeyPem: server.privateKeyPem,
        names: server.record.names,
      },
      crl: { pem: crl.pem, der: crl.der },
    })
  }

  /**
   * `certdesk export broker`: the files a production broker (`target`) needs to take the fleet
   * over. `deliver` writes them (a folder, a zip saved or downloaded) and says whether they
   * arrived: only then is the export (it holds the broker's key) written to the audit log.
   */
  async exportForBroker(
    target: BrokerTarget,
    options: BrokerExportOptions & { ports?: { oneWay: number; mutual: number } } = {},
    deliver: (files: BrokerExportFile[]) => Promise<boolean> = async () => true,
  ): Promise<BrokerExportFile[]> {
    const chosen = parseBrokerTarget(target)
    const files = exportForBroker(chosen, await this.brokerExportInputFor(options))
    if (await deliver(files)) await this.recordBrokerExport(chosen, options.hosts ?? [])
    return files
  }

  /**
   * `certdesk export broker --only-changes-since DIR`: of a new export, the files that differ from
   * the earlier one read from `earlier.dir`, and CHANGES.md. Token devices whose key did not change
   * keep the earlier hashes, so only real changes show.
   */
  async exportChangesForBroker(
    target: BrokerTarget,
    earlier: EarlierExport,
    options: BrokerExportOptions & { ports?: { oneWay: number; mutual: number } } = {},
    deliver: (files: BrokerExportFile[]) => Promise<boolean> = async () => true,
  ): Promise<BrokerExportChanges> {
    const chosen = parseBrokerTarget(target)
    // What the earlier export was made with holds unless the operator says otherwise: a change set
    // must not quietly give the broker a certificate without its names, or other ports or paths.
    const { settings } = earlier
    const hosts = options.hosts ?? settings?.serverNames ?? []
    const input = await this.brokerExportInputFor({
      hosts,
      installDir: options.installDir ?? settings?.installDir,
      ports: options.ports ?? settings?.ports,
    })
    const changes = changesSince(
      chosen,
      earlier,
      exportForBroker(chosen, { ...input, previousCredentials: earlier.users.tokens }),
      input.installDir,
    )
    const secretFiles = changes.files.filter((file) => file.secret).map((file) => file.path)
    if (await deliver(changes.files)) await this.recordBrokerExport(chosen, hosts, { changesSince: earlier.dir, secretFiles })
    return changes
  }

  private async brokerExportInputFor(
    options: BrokerExportOptions & { ports?: { oneWay: number; mutual: number } },
  ): Promise<BrokerExportInput> {
    const installDir = options.installDir === undefined ? undefined : validateInstallDir(options.installDir)
    const input = await this.brokerExportInput(options.hosts ?? [])
    return { ...input, installDir, ports: options.ports ?? input.ports }
  }

  /** The audit entry of a delivered export (it holds the broker's key and the password hashes). */
  recordBrokerExport(target: BrokerTarget, hosts: string[], changes?: { changesSince: string; secretFiles: string[] }): Promise<void> {
    return this.recordKeyExport('broker.export-production', target, { hosts, ...changes })
  }

  listTesterProfiles(): TesterProfileRecord[] {
    return listTesterProfiles(this.store)
  }

  saveTesterProfile(name: string, request: Record<string, unknown>): Promise<TesterProfileRecord> {
    return audited({ action: 'tester-profile.save', target: idsOf }, () => saveTesterProfile(this.store, name, request))
  }

  deleteTesterProfile(id: string): Promise<TesterProfileRecord> {
    return audited({ action: 'tester-profile.delete', target: idsOf }, () => deleteTesterProfile(this.store, id))
  }

  /** A certificate with its private key, for the tester in the main process (never the page). */
  async certificateMaterial(reference: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
    const certificate = this.getCertificate(reference)
    // Signed from a device's request: the key is on the device, and the tester says how to bring it.
    if (!certificate.hasPrivateKey) throw new CertdeskError('CONFLICT', message('tester.keyOnDevice', { name: certificate.name }))
    return this.store.readRecordMaterial(certificate.id)
  }

  /**
   * The seed's zip (`common_certs/…`) for one certificate; the only way a device key leaves.
   * `deliver` writes it out (a file, a download) and says whether it arrived: only then is the
   * export written to the audit log, so a refused or cancelled save records nothing.
   */
  async exportDeviceBundle(reference: string, deliver: Deliver = async () => true): Promise<Buffer> {
    const certificate = this.getCertificate(reference)
    const zip = await this.buildDeviceBundle(certificate.id)
    if (await deliver(zip)) await this.recordKeyExport('certificate.export', certificate.id)
    return zip
  }

  /**
   * One certificate in one format (`cert export --format`): the seed's zip, the certificate as
   * PEM or DER, the chain with the root, PKCS#12, or the private key as PKCS#8. Formats with the
   * key are refused for a certificate Certdesk holds no key for, and are written to the audit log
   * once `deliver` says they arrived, like the bundle.
   */
  async exportCertificate(
    reference: string,
    format: ExportFormat,
    options: CertificateExportOptions = {},
    deliver: Deliver = async () => true,
  ): Promise<Buffer> {
    const certificate = this.getCertificate(reference)
    const withKey = KEY_FORMATS.includes(format)
    const data = withKey
      ? await this.buildKeyExport(certificate, format, options)
      : await this.buildCertificateExport(certificate.id, format)
    if ((await deliver(data)) && withKey) await this.recordKeyExport('certificate.export', certificate.id, { format })
    return data
  }

  private async buildCertificateExport(certificateId: string, format: ExportFormat): Promise<Buffer> {
    const certificatePem = await this.store.readCertificatePem(certificateId)
    if (format === 'der') return certificateDerExport(certificatePem)
    if (format === 'chain') return chainExport(certificatePem, await this.rootCertificatePem())
    return certificatePemExport(certificatePem)
  }

  private async buildKeyExport(certificate: CertificateView, format: ExportFormat, options: CertificateExportOptions): Promise<Buffer> {
    let material: { certificatePem: string; privateKeyPem: string }
    try {
      // The zip is the bundle itself, with all of the bundle's checks.
      if (format === 'zip') return await this.buildDeviceBundle(certificate.id)
      // A revoked certificate's key never leaves again, in any format (its certificate may).
      assertNotRevoked(findCertificate(this.store.read(), certificate.id), 'certificate.revokedNoKeyExport')
      material = await this.store.readRecordMaterial(certificate.id)
    } catch (error) {
      if (isCertdeskError(error) && error.messageKey === 'certificate.noPrivateKey') {
        throw new CertdeskError('INVALID_INPUT', message('export.noPrivateKey', { name: certificate.name, format }))
      }
      throw error
    }
    if (format === 'key') return privateKeyExport(material.privateKeyPem, options)
    const contents = { ...material, rootCertificatePem: await this.rootCertificatePem() }
    return pkcs12Export(contents, { ...options, friendlyName: options.friendlyName ?? certificate.name })
  }

  /** Many bundles (provisioning a batch), with one audit entry for those delivered. */
  async exportDeviceBundles(
    references: readonly string[],
    deliver: (certificateId: string, zip: Buffer) => Promise<boolean>,
  ): Promise<void> {
    const ids = references.map((reference) => this.getCertificate(reference).id)
    const delivered: string[] = []
    try {
      for (const id of ids) if (await deliver(id, await this.buildDeviceBundle(id))) delivered.push(id)
    } finally {
      if (delivered.length > 0) {
        const target =
          delivered.length <= 10 ? delivered.join(' ') : `${delivered.length} certificates, ${delivered[0]} … ${delivered.at(-1)}`
        await this.recordKeyExport('certificate.export', target, { ids: delivered })
      }
    }
  }

  private async buildDeviceBundle(certificateId: string): Promise<Buffer> {
    const data = this.store.read()
    const record = findCertificate(data, certificateId)
    assertNotRevoked(record, 'certificate.revokedNoExport')
    const material = record.hasPrivateKey
      ? this.store.readRecordMaterial(certificateId)
      : this.store.readCertificatePem(certificateId).then((certificatePem) => ({ certificatePem, privateKeyPem: null }))
    const [{ certificatePem, privateKeyPem }, rootCertificatePem] = await Promise.all([material, this.rootCertificatePem()])
    return buildDeviceBundle({ certificatePem, privateKeyPem, rootCertificatePem })
  }

  /** Checks a provisioning file (CSV or JSON lines) against the registry: problems by line, and the plan. */
  previewProvisioning(text: string, options: ProvisioningOptions = {}): ProvisioningPlan {
    return planProvisioning(this.store.read(), text, options)
  }

  /**
   * Provisions a file: devices, certificates and bindings in one all-or-nothing write (see
   * provisioning/provision). The result holds the keys in memory; hand it to `deliverProvisioning`.
   */
  async provision(text: string, options: ProvisioningRunOptions = {}): Promise<ProvisioningResult> {
    const issuer = await this.deviceIssuer()
    const { onProgress: _progress, signal: _signal, ...detail } = options
    return audited(
      {
        action: 'provisioning.run',
        target: (result) => {
          const { counts } = result as { counts: ProvisioningResult['counts'] }
          return `${counts.create} created, ${counts.update} updated, ${counts.skip} skipped, ${counts.certificates} certificates`
        },
        detail,
      },
      () => provision(this.store, issuer, text, options),
    )
  }

  /**
   * A run's output: a folder (`dir`) or one zip handed to `deliver`. Keys leave here, so the
   * export is written to the audit log once it arrived, like a bundle.
   */
  async deliverProvisioning(
    result: ProvisioningResult,
    includeDeviceKeys: boolean,
    target: { dir: string } | { deliver: Deliver },
  ): Promise<Buffer | undefined> {
    const rootCertificatePem = await this.rootCertificatePem()
    let zip: Buffer | undefined
    let arrived = true
    if ('dir' in target) await writeProvisioningFolder(target.dir, result, rootCertificatePem, includeDeviceKeys)
    else {
      zip = provisioningZip(result, rootCertificatePem, includeDeviceKeys)
      arrived = await target.deliver(zip)
    }
    const withKeys = result.bundles.filter((bundle) => bundle.privateKeyPem !== null).length
    const deviceKeys = includeDeviceKeys ? result.deviceKeys.length : 0
    if (arrived && withKeys + deviceKeys > 0) {
      await this.recordKeyExport('provisioning.export', `${withKeys} bundles, ${deviceKeys} device keys`, {
        devices: result.bundles.map((bundle) => bundle.deviceId).slice(0, 10_000),
        deviceKeys,
      })
    }
    return zip
  }

  /**
   * Every device's key by record id, for a table the operator asked to hold them (`device export
   * --include-device-keys`): keys leaving the store, so written to the audit log.
   */
  async exportDeviceKeys(): Promise<Map<string, string>> {
    await this.unlock()
    const devices = this.store.read().devices.all()
    const keys = new Map(devices.map((record) => [record.id, this.deviceKeyOf(record)]))
    await this.recordKeyExport('device.export-keys', `${keys.size} devices`, { devices: keys.size })
    return keys
  }

  /** A private key left the store: worth a line in the audit log though the registry is unchanged. */
  private recordKeyExport(action: string, target: string, detail?: Record<string, unknown>): Promise<void> {
    return audited({ action, target, detail }, () => this.store.mutate(() => undefined))
  }

  /** The audit log, newest last, and whether its chain is intact. */
  getAuditLog(): AuditLog {
    return { entries: readAuditLog(this.dataDir), verification: verifyAuditLog(this.dataDir, this.store.read().audit) }
  }
}

/** Hands an export to its destination; true when it arrived (false: cancelled). */
export type Deliver = (data: Buffer) => Promise<boolean>

/** Runs a registry change with its audit event, which the store writes with the change. */
function audited<T>(event: AuditEvent, work: () => Promise<T>): Promise<T> {
  return auditContext.run(event, work)
}

/** The id(s) of what a change returned: one view, or a batch of them. */
const idsOf = (result: unknown) =>
  [result]
    .flat()
    .map((view) => (view as { id: string }).id)
    .join(' ')
const deviceIdOf = (result: unknown) => (result as { deviceId: string }).deviceId
const nameOf = (result: unknown) => (result as { name: string }).name
