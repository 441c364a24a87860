// The expiry rule, in one place: the CLI's `cert list --expiring-within`, the Certificates
// screen's filter and badges, the Authority screen's summary and the app's notice on start all
// read it. Plain values and the catalog only (no Node): the renderer loads it through the contract.
import { CertdeskError } from '../errors'
import { message } from '../messages'

export const DAY_MS = 86_400_000
/** A certificate is "expiring" when it expires within this many days (and has not yet). */
export const EXPIRING_WITHIN_DAYS = 30
/** The root CA's expiry is called out when it is this close. */
export const CA_EXPIRY_WARNING_DAYS = 90
/** The longest window `--expiring-within` takes (a hundred years, as validity does). */
const MAX_WINDOW_DAYS = 36_500

export type ExpiryState = 'expired' | 'expiring' | 'valid'

/**
 * 'expired' once notAfter has passed; 'expiring' when it passes within `windowDays` (an expired
 * certificate is not "expiring": it is expired); otherwise 'valid'.
 */
export function expiryState(notAfter: string, now = Date.now(), windowDays = EXPIRING_WITHIN_DAYS): ExpiryState {
  const left = Date.parse(notAfter) - now
  if (left <= 0) return 'expired'
  return left <= windowDays * DAY_MS ? 'expiring' : 'valid'
}

/** Whole days until `notAfter` (negative once it has passed). */
export function daysLeft(notAfter: string, now = Date.now()): number {
  return Math.floor((Date.parse(notAfter) - now) / DAY_MS)
}

/** What a certificate's badges say: revoked (final), else its availability, and its expiry. */
export type LifecycleState = 'active' | 'disabled' | 'revoked' | 'expiring' | 'expired'

export function lifecycleStates(
  certificate: { status: 'active' | 'revoked'; enabled: boolean; notAfter: string },
  now = Date.now(),
): LifecycleState[] {
  if (certificate.status === 'revoked') return ['revoked']
  const expiry = expiryState(certificate.notAfter, now)
  return [certificate.enabled ? 'active' : 'disabled', ...(expiry === 'valid' ? [] : [expiry])]
}

/**
 * How many certificates expire within the window and how many have expired (revoked and renewed
 * ones are left out: they are done with), and how close the root CA's own expiry is.
 */
export interface ExpirySummary {
  expiring: number
  expired: number
  caDaysLeft: number
  /** The root CA expires within CA_EXPIRY_WARNING_DAYS (or has). */
  caExpiring: boolean
}

/** What the expiry rules read of a certificate. */
interface ExpiringCertificate {
  id: string
  status: 'active' | 'revoked'
  notAfter: string
  renewedFrom?: string
}

/**
 * Certificates that still ask for the operator's attention: not revoked, and not already renewed
 * (a predecessor stays valid until it expires, so devices can switch at their own pace, but it
 * has a successor: warning about it again would be noise).
 */
function needingAttention<T extends ExpiringCertificate>(certificates: readonly T[]): T[] {
  const renewed = new Set(certificates.map((certificate) => certificate.renewedFrom).filter((id) => id !== undefined))
  return certificates.filter((certificate) => certificate.status !== 'revoked' && !renewed.has(certificate.id))
}

export function expirySummary(
  certificates: readonly ExpiringCertificate[],
  rootCa: { notAfter: string } | null,
  now = Date.now(),
): ExpirySummary {
  let expiring = 0
  let expired = 0
  for (const certificate of needingAttention(certificates)) {
    const state = expiryState(certificate.notAfter, now)
    if (state === 'expiring') expiring += 1
    if (state === 'expired') expired += 1
  }
  const caDaysLeft = rootCa ? daysLeft(rootCa.notAfter, now) : Number.POSITIVE_INFINITY
  return { expiring, expired, caDaysLeft, caExpiring: caDaysLeft < CA_EXPIRY_WARNING_DAYS }
}

/** `--expiring-within`'s value: "30d" or "30", a whole number of days from 1 to 36500. */
export function parseExpiryWindow(value: string): number {
  const match = /^\s*(\d{1,6})\s*d?\s*$/i.exec(value)
  const days = match ? Number(match[1]) : Number.NaN
  if (!Number.isInteger(days) || days < 1 || days > MAX_WINDOW_DAYS) {
    throw new CertdeskError('INVALID_INPUT', message('validation.expiryWindow', { value, max: MAX_WINDOW_DAYS }))
  }
  return days
}

/** The certificates that expire within `windowDays` from now and have not yet (revoked and renewed ones left out). */
export function expiringWithin<T extends ExpiringCertificate>(certificates: readonly T[], windowDays: number, now = Date.now()): T[] {
  return needingAttention(certificates).filter((certificate) => expiryState(certificate.notAfter, now, windowDays) === 'expiring')
}
