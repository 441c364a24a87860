// Plain values and types only (no Node imports; the renderer shares this file): what each kind of
// certificate Certdesk makes looks like, in one table, so a new kind (or a change to one) is a row
// here and not code spread over several modules. Device certificates are further shaped by the
// operator's profiles (data in the index, `certdesk profile`), whose default is `device` below.

import type { KeyType } from './keyTypes'

/** Extended key usages by name, with their OIDs (RFC 5280 §4.2.1.12). */
export const EXTENDED_KEY_USAGES = { clientAuth: '1.3.6.1.5.5.7.3.2', serverAuth: '1.3.6.1.5.5.7.3.1' } as const
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGES

/** Key usages an end-entity profile may ask for (a CA's keyCertSign and cRLSign are not offered). */
export const END_ENTITY_KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'keyAgreement'] as const
type KeyUsageName = (typeof END_ENTITY_KEY_USAGES)[number] | 'keyCertSign' | 'cRLSign'

export interface CertificateProfileSpec {
  /** CA:TRUE with this path length, or an end entity (CA:FALSE). */
  basicConstraints: { ca: true; pathLength: number } | { ca: false }
  /** Key usages; `keyEncipherment` is added for RSA keys (RSA key exchange in TLS 1.2 needs it). */
  keyUsage: readonly KeyUsageName[]
  extendedKeyUsage?: readonly ExtendedKeyUsageName[]
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
    extendedKeyUsage: ['clientAuth'],
    defaultDays: 365,
    maxDays: 36_500,
  },
  server: {
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['serverAuth'],
    // The longest validity browsers and most TLS stacks still accept for a server certificate.
    defaultDays: 397,
    maxDays: 397,
  },
} as const satisfies Record<string, CertificateProfileSpec>

/** Where a device certificate's common name comes from. */
export const COMMON_NAME_SOURCES = ['generated', 'certificateName', 'deviceId'] as const
export type CommonNameSource = (typeof COMMON_NAME_SOURCES)[number]

/** Placeholders a profile's subject alternative names may hold, filled per certificate. */
export const PROFILE_PLACEHOLDERS = ['{deviceId}', '{name}', '{cn}'] as const

/**
 * A device-certificate profile, as data: the way cfssl signing profiles and Vault PKI roles
 * describe what a certificate looks like, so the operator decides it without code.
 */
export interface DeviceProfile {
  name: string
  description: string
  /** Undefined: the root CA's key type. */
  keyType?: KeyType
  /** Validity when `--days` is not given. */
  days: number
  commonName: CommonNameSource
  organization?: string
  organizationalUnit?: string
  /** ISO 3166 two-letter code. */
  country?: string
  /** `dns:…`, `uri:…`, `email:…` or `ip:…`, each may hold the placeholders above. */
  subjectAltNames: string[]
  keyUsage: (typeof END_ENTITY_KEY_USAGES)[number][]
  extendedKeyUsage: ExtendedKeyUsageName[]
}

export const DEFAULT_PROFILE_NAME = 'default'

/** The built-in profile: exactly the certificates Certdesk made before profiles existed. */
export const DEFAULT_DEVICE_PROFILE: Readonly<DeviceProfile> = Object.freeze<DeviceProfile>({
  name: DEFAULT_PROFILE_NAME,
  description: 'Built in: a generated common name, client authentication, the root CA key type.',
  days: CERTIFICATE_PROFILES.device.defaultDays,
  commonName: 'generated',
  subjectAltNames: [],
  keyUsage: ['digitalSignature'],
  extendedKeyUsage: ['clientAuth'],
})
