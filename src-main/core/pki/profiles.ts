// Plain values only: what each kind of certificate Certdesk makes looks like, in one table, so a
// new kind (or a change to one) is a row here and not code spread over several modules.

/** Extended key usages by name, with their OIDs (RFC 5280 §4.2.1.12). */
export const EXTENDED_KEY_USAGES = { clientAuth: '1.3.6.1.5.5.7.3.2', serverAuth: '1.3.6.1.5.5.7.3.1' } as const

export interface CertificateProfileSpec {
  /** CA:TRUE with this path length, or an end entity (CA:FALSE). */
  basicConstraints: { ca: true; pathLength: number } | { ca: false }
  /** Key usages; `keyEncipherment` is added for RSA keys (RSA key exchange in TLS 1.2 needs it). */
  keyUsage: readonly ('digitalSignature' | 'keyCertSign' | 'cRLSign')[]
  extendedKeyUsage?: keyof typeof EXTENDED_KEY_USAGES
  /** Validity when none is asked for, and the longest allowed, in days. */
  defaultDays: number
  maxDays: number
}

/** The root CA's subject common name when the operator gives none (`ca init`, the first-run screen). */
export const DEFAULT_ROOT_CA_COMMON_NAME = 'Certdesk Root CA'

export const CERTIFICATE_PROFILES = {
  root: {
    // pathlen 0: the root signs devices and brokers directly, never another CA.
    basicConstraints: { ca: true, pathLength: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
    defaultDays: 3650,
    maxDays: 36_500,
  },
  device: {
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: 'clientAuth',
    defaultDays: 365,
    maxDays: 36_500,
  },
  server: {
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: 'serverAuth',
    // The longest validity browsers and most TLS stacks still accept for a server certificate.
    defaultDays: 397,
    maxDays: 397,
  },
} as const satisfies Record<string, CertificateProfileSpec>
