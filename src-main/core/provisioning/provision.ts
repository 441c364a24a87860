import { availableParallelism } from 'node:os'
import { forEachConcurrently } from '../concurrency'
import { CertdeskError } from '../errors'
import { message } from '../messages'
import {
  type DeviceCertificateInput,
  type IssuerWithRecord,
  assertNotRevoked,
  commitIssued,
  mintDeviceCertificate,
  validateInputs,
} from '../registry/certificates'
import { applyDeviceUpdate } from '../registry/devices'
import { generateDeviceId, generateDeviceKey, newDeviceRecordId } from '../registry/ids'
import { findCertificate, findDevice } from '../registry/lookup'
import type { RegistryStore } from '../store/registryStore'
import type { CertificateRecord, DeviceRecord, StoreData } from '../store/schema'
import { type PlannedRow, type ProvisioningOptions, type ProvisioningPlan, planProvisioning } from './plan'

const MINT_CONCURRENCY = Math.max(8, availableParallelism() * 2)

/**
 * Where a run is: `checking` the file, `issuing` keys and certificates (the slow part, before
 * the lock), `committing` the one write, `done`. `done`/`total` count devices or certificates.
 */
export interface ProvisioningProgress {
  phase: 'checking' | 'issuing' | 'committing' | 'done'
  done: number
  total: number
}

export interface ProvisioningRunOptions extends ProvisioningOptions {
  onProgress?: (progress: ProvisioningProgress) => void
  /** Aborted before the commit: nothing is written and the run fails with CANCELLED. */
  signal?: AbortSignal
}

/** What one row of the file came to: the manifest's line. */
export interface ProvisionedRow {
  line: number
  action: PlannedRow['action']
  deviceId: string
  name: string
  username: string
  authType: PlannedRow['authType']
  certificateId?: string
  certificateName?: string
  serial?: string
  fingerprint256?: string
  notAfter?: string
}

/** A certificate device's files, for its bundle. */
interface ProvisionedBundle {
  deviceId: string
  certificatePem: string
  /** Null for a bound certificate whose key Certdesk does not hold (signed from a request). */
  privateKeyPem: string | null
}

export interface ProvisioningResult {
  rows: ProvisionedRow[]
  bundles: ProvisionedBundle[]
  /** The new token devices' keys (MQTT passwords), in the clear; written out only when asked. */
  deviceKeys: { deviceId: string; username: string; deviceKey: string }[]
  counts: ProvisioningPlan['counts']
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CertdeskError('CANCELLED', message('provisioning.cancelled'))
}

/** The plan's refusal: every problem is in the plan, the error names the count and the first. */
function assertPlanClean(plan: ProvisioningPlan): void {
  const first = plan.problems[0]
  if (first === undefined) return
  throw new CertdeskError(
    'INVALID_INPUT',
    message('provisioning.invalidFile', { count: plan.problems.length, line: first.line, problem: first.message }),
  )
}

interface NewDevice {
  row: PlannedRow
  record: DeviceRecord
  deviceKey: string
}

/**
 * Provisions a file: devices, certificates and bindings in one all-or-nothing write. Keys are
 * made and certificates signed across every core before the lock, their files staged; the
 * index names them all in one `mutate`. A cancel, a crash or a refusal before that leaves the
 * registry as it was (the staging folder is removed, or swept by the next open).
 */
export async function provision(
  store: RegistryStore,
  issuer: IssuerWithRecord,
  text: string,
  options: ProvisioningRunOptions = {},
): Promise<ProvisioningResult> {
  const { onProgress, signal } = options
  onProgress?.({ phase: 'checking', done: 0, total: 0 })
  const before = store.read()
  const plan = planProvisioning(before, text, options)
  assertPlanClean(plan)
  throwIfCancelled(signal)
  await store.unlock()
  const stamp = new Date().toISOString()
  const newDevices: NewDevice[] = []
  for (const row of plan.rows.filter((planned) => planned.action === 'create')) {
    const id = newDeviceRecordId()
    const deviceId = row.deviceId === '' ? generateDeviceId() : row.deviceId
    const deviceKey = generateDeviceKey()
    const record: DeviceRecord = {
      id,
      name: row.name,
      deviceId,
      username: row.username === '' ? deviceId : row.username,
      deviceKey: await store.sealDeviceKey(id, deviceKey),
      authType: row.authType,
      createdAt: stamp,
      updatedAt: stamp,
    }
    newDevices.push({ row: { ...row, deviceId, username: record.username }, record, deviceKey })
  }
  const newByLine = new Map(newDevices.map((device) => [device.row.line, device.row]))
  const rowsInOrder = plan.rows.map((row) => newByLine.get(row.line) ?? row)
  const newByDeviceId = new Map(newDevices.map((device) => [device.record.deviceId, device.record]))
  // Certificates for the new devices (not in the index yet) and for updated ones without any.
  const issuing = rowsInOrder.filter((row) => row.issueCertificate)
  const inputs: DeviceCertificateInput[] = issuing.map((row) => ({ name: row.deviceId, profile: options.profile, device: row.deviceId }))
  const resolve = (data: StoreData, reference: string) => {
    const device = newByDeviceId.get(reference) ?? findDevice(data, reference)
    return { recordId: device.id, deviceId: device.deviceId }
  }
  const now = new Date()
  const validated = validateInputs(before, issuer, inputs, now, resolve)
  const material = new Map<string, { certificatePem: string; privateKeyPem: string | null }>()
  const minted = new Map<string, CertificateRecord>()
  const staging = await store.stageRecords()
  try {
    onProgress?.({ phase: 'issuing', done: 0, total: validated.length })
    await forEachConcurrently(validated, MINT_CONCURRENCY, async (input) => {
      throwIfCancelled(signal)
      const record = await mintDeviceCertificate(staging, issuer, input, now, undefined, (files) => material.set(input.name, files))
      minted.set(input.name, record)
      onProgress?.({ phase: 'issuing', done: minted.size, total: validated.length })
    })
    // Existing certificates bound by the file go in the bundles too, as they are.
    const bound = new Map<string, { certificatePem: string; privateKeyPem: string | null }>()
    for (const row of rowsInOrder) {
      const id = row.bindCertificateId
      if (id === undefined || bound.has(id)) continue
      const record = findCertificate(before, id)
      bound.set(
        id,
        record.hasPrivateKey
          ? await store.readRecordMaterial(id)
          : { certificatePem: await store.readCertificatePem(id), privateKeyPem: null },
      )
    }
    throwIfCancelled(signal)
    onProgress?.({ phase: 'committing', done: 0, total: 0 })
    const records = validated.map((input) => minted.get(input.name) as CertificateRecord)
    const committed = await store.mutate(
      (data) => {
        // Device IDs and record ids share one namespace (as `createDevice` checks); the devices
        // added here count too, so two rows cannot take one ID.
        for (const { record } of newDevices) {
          if (data.devices.byDeviceId(record.deviceId) ?? data.devices.get(record.deviceId)) {
            throw new CertdeskError('CONFLICT', message('device.idTaken', { deviceId: record.deviceId }))
          }
          if (data.devices.has(record.id)) throw new CertdeskError('CONFLICT', message('device.idCollision'))
          data.devices.put(record)
        }
        const deviceOf = (deviceId: string) => data.devices.byDeviceId(deviceId) ?? findDevice(data, deviceId)
        for (const row of rowsInOrder.filter((planned) => planned.action === 'update')) {
          applyDeviceUpdate(data, deviceOf(row.deviceId), { name: row.name, authType: row.authType })
        }
        for (const row of rowsInOrder) {
          if (row.bindCertificateId === undefined) continue
          const certificate = findCertificate(data, row.bindCertificateId)
          assertNotRevoked(certificate, 'certificate.revokedNoBind')
          const device = deviceOf(row.deviceId)
          if (data.bindings.has(certificate.id, device.id)) continue
          data.bindings.add({ certificateId: certificate.id, deviceRecordId: device.id, createdAt: stamp })
        }
        const views = commitIssued(data, records, validated)
        return { views, counts: plan.counts }
      },
      { staged: staging },
    )
    const viewsByName = new Map(committed.views.map((view) => [view.name, view]))
    const after = store.read()
    const boundViews = new Map(
      rowsInOrder.flatMap((row) =>
        row.bindCertificateId === undefined ? [] : [[row.bindCertificateId, findCertificate(after, row.bindCertificateId)] as const],
      ),
    )
    const rows: ProvisionedRow[] = []
    const bundles: ProvisionedBundle[] = []
    for (const row of rowsInOrder) {
      const certificate = row.issueCertificate ? viewsByName.get(row.deviceId) : boundViews.get(row.bindCertificateId ?? '')
      rows.push({
        line: row.line,
        action: row.action,
        deviceId: row.deviceId,
        name: row.name,
        username: row.username,
        authType: row.authType,
        ...(certificate
          ? {
              certificateId: certificate.id,
              certificateName: certificate.name,
              serial: certificate.serial,
              fingerprint256: certificate.fingerprint256,
              notAfter: certificate.notAfter,
            }
          : {}),
      })
      const files = row.issueCertificate ? material.get(row.deviceId) : bound.get(row.bindCertificateId ?? '')
      if (files) bundles.push({ deviceId: row.deviceId, ...files })
    }
    const deviceKeys = newDevices
      .filter((device) => device.record.authType === 'token')
      .map((device) => ({ deviceId: device.record.deviceId, username: device.record.username, deviceKey: device.deviceKey }))
    onProgress?.({ phase: 'done', done: plan.rows.length, total: plan.rows.length })
    return { rows, bundles, deviceKeys, counts: plan.counts }
  } finally {
    await staging.discard()
  }
}
