import { isCertdeskError } from '../errors'
import { message } from '../messages'
import { parseAuthType } from '../registry/devices'
import { findProfile } from '../registry/profiles'
import { normaliseName, validateDeviceId, validateUsername } from '../registry/validation'
import type { AuthType, CertificateRecord, DeviceRecord, StoreData } from '../store/schema'
import { type InputFormat, type InputRow, type ProvisioningProblem, problemAt, readProvisioningFile } from './input'

export interface ProvisioningOptions {
  /** `csv` (a header row) or `jsonl` (one JSON object a line); csv when absent. */
  format?: InputFormat
  /** The profile new certificates are issued with; the built-in `default` when absent. */
  profile?: string
  /** Rows whose device exists update its name and authentication type; otherwise they are skipped. */
  update?: boolean
}

/**
 * What one row will do: `create` a device, `update` an existing one (with `update`), or `skip`
 * it because it exists. `deviceId` is empty for a new device whose ID is generated at the run.
 */
export interface PlannedRow {
  line: number
  action: 'create' | 'update' | 'skip'
  deviceId: string
  name: string
  username: string
  authType: AuthType
  /** An existing certificate (its record id) to bind. */
  bindCertificateId?: string
  /** Its name, for the preview. */
  bindCertificateName?: string
  /** A certificate is issued for this row (named by the device ID) with the run's profile. */
  issueCertificate: boolean
}

export interface ProvisioningPlan {
  problems: ProvisioningProblem[]
  rows: PlannedRow[]
  counts: { rows: number; create: number; update: number; skip: number; certificates: number; bindings: number }
}

/**
 * A certificate named in a row: its record id, its name (any case), or its common name — which a
 * renewal shares with its predecessor, so a common name that is not one certificate's is
 * `ambiguous` (the row must name it by id or name), never the first one found.
 */
function certificateNamed(context: PlanContext, reference: string): CertificateRecord | 'ambiguous' | undefined {
  const { certificates } = context.data
  const direct = certificates.get(reference) ?? certificates.byName(reference)
  if (direct) return direct
  const named = certificates.withCommonName(reference)
  return named.length > 1 ? 'ambiguous' : named[0]
}

function groupBy<T>(records: readonly T[], keyOf: (record: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const record of records) {
    const key = keyOf(record)
    const group = groups.get(key)
    if (group) group.push(record)
    else groups.set(key, [record])
  }
  return groups
}

/** Runs a core validator; its refusal becomes a problem of this line. */
function checked<T>(line: number, problems: ProvisioningProblem[], check: () => T): T | undefined {
  try {
    return check()
  } catch (error) {
    if (!isCertdeskError(error) || error.messageKey === undefined) throw error
    problems.push(problemAt(line, { key: error.messageKey, params: error.params }))
    return undefined
  }
}

/**
 * Reads and checks the whole file against the registry as it is now: every problem with its
 * line, and what each row will do. Nothing is written; `provision` runs the same checks again.
 */
export function planProvisioning(data: StoreData, text: string, options: ProvisioningOptions = {}): ProvisioningPlan {
  const read = readProvisioningFile(text, options.format)
  const problems = [...read.problems]
  // An option, not a line of the file: line 0.
  checked(0, problems, () => findProfile(data, options.profile))
  const context: PlanContext = { data, firstLineOf: new Map(), update: options.update === true, now: Date.now() }
  const rows: PlannedRow[] = []
  for (const row of read.rows) {
    const planned = planRow(row, problems, context)
    if (planned) rows.push(planned)
  }
  problems.sort((a, b) => a.line - b.line)
  const count = (action: PlannedRow['action']) => rows.filter((row) => row.action === action).length
  return {
    problems,
    rows,
    counts: {
      rows: read.rows.length,
      create: count('create'),
      update: count('update'),
      skip: count('skip'),
      certificates: rows.filter((row) => row.issueCertificate).length,
      bindings: rows.filter((row) => row.bindCertificateId !== undefined).length,
    },
  }
}

interface PlanContext {
  data: StoreData
  /** Devices by name: no lookup finds them (names need not be unique), so built when a row first needs one. */
  devicesByName?: Map<string, DeviceRecord[]>
  firstLineOf: Map<string, number>
  update: boolean
  /** When the plan is made, for a named certificate's expiry. */
  now: number
}

function planRow({ line, fields }: InputRow, problems: ProvisioningProblem[], context: PlanContext): PlannedRow | undefined {
  const before = problems.length
  const name = checked(line, problems, () => normaliseName(fields.name ?? '', 'device'))
  const authType = checked(line, problems, () => parseAuthType(fields.auth ?? ''))
  const deviceId = fields.device_id === undefined ? undefined : checked(line, problems, () => validateDeviceId(fields.device_id as string))
  const username = fields.username === undefined ? undefined : checked(line, problems, () => validateUsername(fields.username as string))
  if (deviceId === undefined && name !== undefined) {
    // Matched by name on the next run: two such rows could not be told apart then.
    const key = `name:${name}`
    const other = context.firstLineOf.get(key)
    if (other !== undefined) problems.push(problemAt(line, message('provisioning.nameTwiceWithoutId', { name, otherLine: other })))
    else context.firstLineOf.set(key, line)
  }
  if (deviceId !== undefined) {
    const other = context.firstLineOf.get(deviceId)
    if (other !== undefined) problems.push(problemAt(line, message('provisioning.duplicateDeviceId', { deviceId, otherLine: other })))
    else context.firstLineOf.set(deviceId, line)
  }
  // The device this row names, if the registry has it: by device ID, or by name when the row has none.
  let existing: DeviceRecord | undefined
  if (deviceId !== undefined) existing = context.data.devices.byDeviceId(deviceId) ?? context.data.devices.get(deviceId)
  else if (name !== undefined) {
    context.devicesByName ??= groupBy(context.data.devices.all(), (device) => device.name)
    const named = context.devicesByName.get(name) ?? []
    if (named.length > 1) problems.push(problemAt(line, message('provisioning.ambiguousName', { name })))
    existing = named.length === 1 ? named[0] : undefined
  }
  if (existing && deviceId !== undefined && existing.deviceId !== deviceId) {
    // The ID is another device's record id: the two share one namespace.
    problems.push(problemAt(line, message('device.idTaken', { deviceId })))
  }
  let bound: CertificateRecord | undefined
  if (fields.certificate !== undefined) {
    if (authType === 'token') problems.push(problemAt(line, message('provisioning.certificateOnToken')))
    else {
      const named = certificateNamed(context, fields.certificate)
      bound = named === 'ambiguous' ? undefined : named
      if (named === 'ambiguous') {
        problems.push(problemAt(line, message('provisioning.certificateAmbiguous', { reference: fields.certificate })))
      } else if (!bound) problems.push(problemAt(line, message('certificate.notFound', { reference: fields.certificate })))
      else if (Date.parse(bound.notAfter) <= context.now) {
        problems.push(problemAt(line, message('provisioning.certificateExpired', { name: bound.name, date: bound.notAfter.slice(0, 10) })))
      } else if (bound.status === 'revoked') {
        problems.push(
          problemAt(
            line,
            message('certificate.revokedNoBind', {
              name: bound.name,
              reason: bound.revocationReason ?? 'unspecified',
              date: bound.revokedAt ?? 'an unknown date',
            }),
          ),
        )
      }
    }
  }
  if (problems.length > before || name === undefined || authType === undefined) return undefined
  const action: PlannedRow['action'] = existing ? (context.update ? 'update' : 'skip') : 'create'
  if (existing && action === 'update' && authType === 'token' && existing.authType === 'cert') {
    const bindings = context.data.bindings.ofDevice(existing.id)
    const count = bindings.length
    if (count > 0) {
      const certificates = bindings.map((binding) => binding.certificateId).join(', ')
      problems.push(problemAt(line, message('device.boundBeforeToken', { deviceId: existing.deviceId, count, certificates })))
      return undefined
    }
  }
  const alreadyBound = existing !== undefined && bound !== undefined && context.data.bindings.has(bound.id, existing.id)
  const bindsNow = action !== 'skip' && bound !== undefined && !alreadyBound
  const issueCertificate =
    authType === 'cert' &&
    bound === undefined &&
    (action === 'create' || (action === 'update' && context.data.bindings.ofDevice(existing!.id).length === 0))
  const finalId = existing?.deviceId ?? deviceId ?? ''
  // The new certificate takes the device ID as its name: it must be free.
  const nameTaken = issueCertificate && finalId !== '' ? context.data.certificates.byName(finalId) : undefined
  if (nameTaken) {
    problems.push(problemAt(line, message('certificate.nameTaken', { name: nameTaken.name })))
    return undefined
  }
  return {
    line,
    action,
    deviceId: finalId,
    name,
    username: existing?.username ?? username ?? finalId,
    authType,
    ...(bindsNow ? { bindCertificateId: bound!.id, bindCertificateName: bound!.name } : {}),
    issueCertificate,
  }
}
