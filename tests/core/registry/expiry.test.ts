import { describe, expect, it } from 'vitest'
import {
  CA_EXPIRY_WARNING_DAYS,
  EXPIRING_WITHIN_DAYS,
  expiringWithin,
  expiryState,
  expirySummary,
  lifecycleStates,
  parseExpiryWindow,
} from '../../../src-main/core/registry/expiry'

const NOW = Date.parse('2026-06-01T12:00:00Z')
const inDays = (days: number) => new Date(NOW + days * 86_400_000).toISOString()
let ids = 0
const certificate = (days: number, status: 'active' | 'revoked' = 'active', enabled = true) => ({
  id: `crt_${ids++}`,
  notAfter: inDays(days),
  status,
  enabled,
})

describe('the expiry rule (CLI, Certificates, Authority and the notice on start)', () => {
  it('calls a certificate expiring within the window, expired once past, valid beyond', () => {
    expect(EXPIRING_WITHIN_DAYS).toBe(30)
    expect(expiryState(inDays(-0.001), NOW)).toBe('expired')
    expect(expiryState(inDays(0), NOW)).toBe('expired')
    expect(expiryState(inDays(1), NOW)).toBe('expiring')
    expect(expiryState(inDays(30), NOW)).toBe('expiring')
    expect(expiryState(inDays(30.01), NOW)).toBe('valid')
    expect(expiryState(inDays(40), NOW, 45)).toBe('expiring')
  })

  it('gives each certificate its badges: revoked alone, else availability and expiry', () => {
    expect(lifecycleStates(certificate(10, 'revoked'), NOW)).toEqual(['revoked'])
    expect(lifecycleStates(certificate(100), NOW)).toEqual(['active'])
    expect(lifecycleStates(certificate(10, 'active', false), NOW)).toEqual(['disabled', 'expiring'])
    expect(lifecycleStates(certificate(-1), NOW)).toEqual(['active', 'expired'])
  })

  it('counts expiring and expired certificates (not revoked ones) and the CA’s days left', () => {
    const list = [
      certificate(5),
      certificate(29),
      certificate(-3),
      certificate(10, 'revoked'),
      certificate(-9, 'revoked'),
      certificate(365),
    ]
    expect(expirySummary(list, { notAfter: inDays(400) }, NOW)).toEqual({ expiring: 2, expired: 1, caDaysLeft: 400, caExpiring: false })
    expect(expirySummary([], { notAfter: inDays(CA_EXPIRY_WARNING_DAYS - 1) }, NOW).caExpiring).toBe(true)
    expect(expirySummary([], { notAfter: inDays(-2) }, NOW)).toMatchObject({ caDaysLeft: -2, caExpiring: true })
    expect(expiringWithin(list, 30, NOW)).toEqual([list[0], list[1]])
    // Renewed: the predecessor stays valid for its devices, but it has a successor — no warning.
    const successor = { ...certificate(395), renewedFrom: list[0].id }
    expect(expirySummary([...list, successor], null, NOW)).toMatchObject({ expiring: 1, expired: 1 })
    expect(expiringWithin([...list, successor], 30, NOW)).toEqual([list[1]])
  })

  it('reads a window as Nd or N days, and refuses anything else in one sentence', () => {
    expect([parseExpiryWindow('30d'), parseExpiryWindow('30'), parseExpiryWindow(' 7D '), parseExpiryWindow('36500')]).toEqual([
      30, 30, 7, 36_500,
    ])
    for (const bad of ['', '0', '0d', 'd', '30 days', '2w', '-1', '1.5', '36501']) {
      expect(() => parseExpiryWindow(bad), bad).toThrow(/is not an expiry window; give a whole number of days from 1 to 36500/)
    }
  })
})
