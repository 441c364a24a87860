import { z } from 'zod'
import { isCertdeskError } from '../core/errors'
import { KEY_TYPES } from '../core/pki/keyTypes'
import type { Workspace } from '../core/workspace'
import type { BrokerStatus, CertdeskApi, ConnectionLogEntry, Envelope, OperationName, SaveResult } from './types'
import { OPERATIONS } from './types'

/** What only a front door can do: show a save dialog (Electron) and report the broker. */
export interface FrontDoor {
  saveFile(suggestedName: string, data: Buffer | string, mode: number): Promise<SaveResult>
  brokerStatus(): BrokerStatus
  connectionLog(): Promise<ConnectionLogEntry[]>
}

const id = z.string().min(1).max(200)
const name = z.string().max(1000)
const authType = z.enum(['token', 'cert'])
const deviceIds = z.array(id).min(1).max(10_000)

/** Run-time shapes of each operation's arguments: nothing unchecked reaches the core. */
const ARGUMENTS = {
  getRootCa: z.tuple([]),
  listCertificates: z.tuple([]),
  getCertificate: z.tuple([id]),
  createCertificate: z.tuple([
    z.strictObject({
      name,
      enabled: z.boolean().optional(),
      keyType: z.enum(KEY_TYPES).optional(),
      days: z.number().int().min(1).max(36_500).optional(),
    }),
  ]),
  updateCertificate: z.tuple([id, z.strictObject({ name: name.optional(), enabled: z.boolean().optional() })]),
  deleteCertificate: z.tuple([id]),
  bindDevices: z.tuple([id, deviceIds]),
  unbindDevices: z.tuple([id, deviceIds]),
  listDevices: z.tuple([]),
  getDevice: z.tuple([id]),
  createDevice: z.tuple([
    z.strictObject({ name, authType, deviceId: z.string().max(200).optional(), username: z.string().max(200).optional() }),
  ]),
  updateDevice: z.tuple([id, z.strictObject({ name: name.optional(), authType: authType.optional() })]),
  regenerateDeviceKey: z.tuple([id]),
  deleteDevice: z.tuple([id]),
  saveDeviceBundle: z.tuple([id]),
  saveRootCertificate: z.tuple([]),
  getBrokerStatus: z.tuple([]),
  getConnectionLog: z.tuple([]),
} satisfies Record<OperationName, z.ZodType<unknown[]>>

/** The main side's implementation of the contract, over one workspace. */
export function implementApi(workspace: Workspace, frontDoor: FrontDoor): CertdeskApi {
  const safeName = (text: string) => text.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'certificate'
  return {
    getRootCa: async () => workspace.rootCa(),
    listCertificates: async () => workspace.listCertificates(),
    getCertificate: async (certificateId) => workspace.getCertificate(certificateId),
    createCertificate: (input) => workspace.issueDeviceCertificate(input),
    updateCertificate: (certificateId, changes) => workspace.updateCertificate(certificateId, changes),
    deleteCertificate: (certificateId) => workspace.deleteCertificate(certificateId),
    bindDevices: (certificateId, ids) => workspace.bindDevices(certificateId, ids),
    unbindDevices: (certificateId, ids) => workspace.unbindDevices(certificateId, ids),
    listDevices: async () => workspace.listDevices(),
    getDevice: async (deviceId) => workspace.getDevice(deviceId),
    createDevice: (input) => workspace.createDevice(input),
    updateDevice: (deviceId, changes) => workspace.updateDevice(deviceId, changes),
    regenerateDeviceKey: (deviceId) => workspace.regenerateDeviceKey(deviceId),
    deleteDevice: (deviceId) => workspace.deleteDevice(deviceId),
    saveDeviceBundle: async (certificateId) => {
      const certificate = workspace.getCertificate(certificateId)
      return frontDoor.saveFile(`${safeName(certificate.name)}.zip`, await workspace.exportDeviceBundle(certificateId), 0o600)
    },
    saveRootCertificate: async () => frontDoor.saveFile('root_ca.crt', await workspace.rootCertificatePem(), 0o644),
    getBrokerStatus: async () => frontDoor.brokerStatus(),
    getConnectionLog: () => frontDoor.connectionLog(),
  }
}

export type Dispatch = (operation: string, args: unknown) => Promise<Envelope>

/**
 * Validates an operation's name and arguments, runs it, and wraps the answer. Errors become one
 * sentence: the core's own, or a plain one for anything unexpected (never a stack trace).
 */
export function createDispatcher(api: CertdeskApi): Dispatch {
  return async (operation, args) => {
    if (!(OPERATIONS as readonly string[]).includes(operation)) {
      return { ok: false, error: `There is no operation "${String(operation).slice(0, 60)}".` }
    }
    const name = operation as OperationName
    const parsed = ARGUMENTS[name].safeParse(args)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.length ? ` (at ${issue.path.join('.')})` : ''
      return { ok: false, error: `The request to ${name} was malformed${where}: ${issue?.message ?? 'invalid'}.` }
    }
    try {
      const run = api[name] as (...values: unknown[]) => Promise<unknown>
      return { ok: true, value: await run(...(parsed.data as unknown[])) }
    } catch (error) {
      if (isCertdeskError(error)) return { ok: false, error: error.message }
      return { ok: false, error: `Something went wrong inside Certdesk (${error instanceof Error ? error.message : String(error)}).` }
    }
  }
}
