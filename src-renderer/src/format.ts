/** Dates shown as the operator's local day and time, to the minute. */
export function formatDate(iso: string): string {
  const date = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`
}

// The expiry rule is the core's (the CLI's `--expiring-within` uses it too): one window everywhere.
export { EXPIRING_WITHIN_DAYS, expiryState } from '../../src-main/contract/types'
