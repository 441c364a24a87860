import { type CrlFacts, buildCrl } from '../pki/crl'
import type { Issuer } from '../pki/certificates'
import type { RegistryStore } from '../store/registryStore'
import { REVOCATION_REASON_CODES } from '../store/schema'
import { validateDays } from './validation'

export const DEFAULT_CRL_DAYS = 7
const MAX_CRL_DAYS = 366

/** A CRL's days to its next update, checked before anything asks where to save it. */
export const validateCrlDays = (days: number | undefined) => validateDays(days ?? DEFAULT_CRL_DAYS, 'crl', MAX_CRL_DAYS)

export interface CrlOptions {
  /** Days until nextUpdate. */
  days?: number
  now?: Date
}

/** A signed CRL, with its number and how many certificates it lists. */
export type GeneratedCrl = CrlFacts & { crlNumber: number; revoked: number }

/**
 * A CRL of every revoked certificate, signed with the next CRL number, which is used up: the
 * number and the list are taken in one registry change, so two CRLs never share a number.
 */
export async function generateCrl(store: RegistryStore, issuer: Issuer, options: CrlOptions = {}): Promise<GeneratedCrl> {
  const days = validateCrlDays(options.days)
  return store.mutate((data) => {
    const rootCa = data.rootCa
    if (!rootCa) throw new Error('generateCrl: the folder has no root CA')
    const crlNumber = rootCa.crlNumber
    const revoked = data.certificates
      .all()
      .filter((certificate) => certificate.status === 'revoked')
      .map((certificate) => ({
        serial: certificate.serial,
        revokedAt: new Date(certificate.revokedAt ?? certificate.updatedAt),
        reasonCode: REVOCATION_REASON_CODES[certificate.revocationReason ?? 'unspecified'],
      }))
    const crl = buildCrl({ issuer, crlNumber, days, revoked, now: options.now })
    rootCa.crlNumber = crlNumber + 1
    return { ...crl, crlNumber, revoked: revoked.length }
  })
}
