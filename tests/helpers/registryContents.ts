import type { BindingRecord, StoreData } from '../../src-main/core/store/schema'
import { headOf } from '../../src-main/core/store/tables'

const byId = <T extends { id: string }>(records: readonly T[]) => [...records].sort((a, b) => a.id.localeCompare(b.id))
const bindingKey = (binding: BindingRecord) => `${binding.certificateId}\u0000${binding.deviceRecordId}`

/**
 * What a registry holds, as JSON: the head and every record of its tables, in a set order. The
 * tables are objects with lookups, so `JSON.stringify(data)` would show how they are kept instead.
 */
export function registryContents(data: StoreData): string {
  return JSON.stringify({
    ...headOf(data),
    certificates: byId(data.certificates.all()),
    devices: byId(data.devices.all()),
    bindings: [...data.bindings.all()].sort((a, b) => bindingKey(a).localeCompare(bindingKey(b))),
  })
}
