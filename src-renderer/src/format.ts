/** Dates shown as the operator's local day and time, to the minute. */
export function formatDate(iso: string): string {
  const date = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`
}

/** 'expired', 'expiring' (within 30 days) or 'valid'. */
export function expiryState(notAfter: string, now = Date.now()): 'expired' | 'expiring' | 'valid' {
  const left = Date.parse(notAfter) - now
  if (left <= 0) return 'expired'
  return left < 30 * 86_400_000 ? 'expiring' : 'valid'
}
