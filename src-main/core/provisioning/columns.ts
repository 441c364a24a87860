// Plain values only (no Node imports): the renderer shares this file through the contract.

/** The columns a provisioning file may have, in any order; `name` and `auth` are required. */
export const PROVISIONING_COLUMNS = ['name', 'device_id', 'username', 'auth', 'certificate'] as const
export type ProvisioningColumn = (typeof PROVISIONING_COLUMNS)[number]
/** Beyond this a file is refused: the index holds every device, and a run holds every key in memory. */
export const MAX_PROVISIONING_ROWS = 100_000
