import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { type PeerCertificate, connect as tlsConnect } from 'node:tls'
import { type Message, type MessageKey, message, renderMessage } from '../messages'
import type { ConnectionProfile } from './connectionProfile'
import type { Diagnosis, DiagnosisCode, ServerCertificateSummary } from './types'

export type { Diagnosis }

/** Certdesk's own broker, as a profile that dials it knows it: its two ports. */
export interface CertdeskBrokerTarget {
  oneWayPort: number
  mutualPort: number
}

/**
 * A profile as the diagnosis reads it: `certdeskBroker` is set (by profileSources) when the
 * profile dials Certdesk's own broker. Only then does a diagnosis give advice about Certdesk's
 * registry (the device page, bindings) or name its ports; any other broker gets advice that
 * holds for every broker.
 */
export type DiagnosableProfile = ConnectionProfile & { certdeskBroker?: CertdeskBrokerTarget }

/** Each code's usual sentences: the summary and the next step a screen shows for it. */
export const DIAGNOSIS_MESSAGES: Record<DiagnosisCode, { summary: MessageKey; nextStep: MessageKey }> = {
  'untrusted-ca': { summary: 'diagnosis.untrustedCa', nextStep: 'diagnosis.untrustedCaNext' },
  'host-name-mismatch': { summary: 'diagnosis.hostNameMismatch', nextStep: 'diagnosis.hostNameMismatchNext' },
  'server-certificate-expired': { summary: 'diagnosis.serverCertificateExpired', nextStep: 'diagnosis.serverCertificateExpiredNext' },
  'server-certificate-not-yet-valid': {
    summary: 'diagnosis.serverCertificateNotYetValid',
    nextStep: 'diagnosis.serverCertificateNotYetValidNext',
  },
  'wrong-key-passphrase': { summary: 'diagnosis.wrongKeyPassphrase', nextStep: 'diagnosis.wrongKeyPassphraseNext' },
  'key-certificate-mismatch': { summary: 'diagnosis.keyCertificateMismatch', nextStep: 'diagnosis.keyCertificateMismatchNext' },
  'unreadable-client-material': { summary: 'diagnosis.unreadableClientMaterial', nextStep: 'diagnosis.unreadableClientMaterialNext' },
  'client-certificate-refused': { summary: 'diagnosis.clientCertificateRefused', nextStep: 'diagnosis.clientCertificateRefusedNext' },
  'client-certificate-expired': { summary: 'diagnosis.clientCertificateExpired', nextStep: 'diagnosis.clientCertificateExpiredNext' },
  'client-certificate-not-yet-valid': {
    summary: 'diagnosis.clientCertificateNotYetValid',
    nextStep: 'diagnosis.clientCertificateNotYetValidNext',
  },
  'tls-version-mismatch': { summary: 'diagnosis.tlsVersionMismatch', nextStep: 'diagnosis.tlsVersionMismatchNext' },
  'alpn-mismatch': { summary: 'diagnosis.alpnMismatch', nextStep: 'diagnosis.alpnMismatchNext' },
  'not-tls': { summary: 'diagnosis.notTls', nextStep: 'diagnosis.notTlsNext' },
  'connection-refused': { summary: 'diagnosis.connectionRefused', nextStep: 'diagnosis.connectionRefusedNext' },
  timeout: { summary: 'diagnosis.timeout', nextStep: 'diagnosis.timeoutNext' },
  dns: { summary: 'diagnosis.dns', nextStep: 'diagnosis.dnsNext' },
  'mqtt-bad-credentials': { summary: 'diagnosis.mqttBadCredentials', nextStep: 'diagnosis.mqttBadCredentialsNext' },
  'mqtt-not-authorized': { summary: 'diagnosis.mqttNotAuthorized', nextStep: 'diagnosis.mqttNotAuthorizedNext' },
  'mqtt-client-id-rejected': { summary: 'diagnosis.mqttClientIdRejected', nextStep: 'diagnosis.mqttClientIdRejectedNext' },
  'mqtt-unsupported-protocol': { summary: 'diagnosis.mqttUnsupportedProtocol', nextStep: 'diagnosis.mqttUnsupportedProtocolNext' },
  'mqtt-server-unavailable': { summary: 'diagnosis.mqttServerUnavailable', nextStep: 'diagnosis.mqttServerUnavailableNext' },
  'connection-closed': { summary: 'diagnosis.connectionClosed', nextStep: 'diagnosis.connectionClosedNext' },
  unknown: { summary: 'diagnosis.unknown', nextStep: 'diagnosis.unknownNext' },
}

/**
 * A diagnosis whose sentences are the catalog's: the English in `summary` and `nextStep` (what
 * the CLI prints), the keys and values in `messages` (what a screen translates). Without
 * sentences given, the code's usual ones.
 */
export function diagnosis(
  code: DiagnosisCode,
  said: { summary?: Message; nextStep?: Message } = {},
  extra: Pick<Diagnosis, 'detail' | 'serverChain'> = {},
): Diagnosis {
  const summary = said.summary ?? { key: DIAGNOSIS_MESSAGES[code].summary }
  const nextStep = said.nextStep ?? { key: DIAGNOSIS_MESSAGES[code].nextStep }
  return { code, summary: renderMessage(summary), nextStep: renderMessage(nextStep), messages: { summary, nextStep }, ...extra }
}

/** A failed connection's error as Node's TLS stack or mqtt.js raise it. */
export type FailureError = Error & { code?: string | number; reason?: string; cert?: PeerCertificate }

function names(certificate: { subjectaltname?: string }): string[] {
  return (certificate.subjectaltname ?? '')
    .split(',')
    .map((part) => part.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean)
}

/** Reads the server's certificate chain without trusting it: the evidence for a diagnosis. */
function inspectServerChain(host: string, port: number, serverName?: string, timeoutMs = 5000): Promise<ServerCertificateSummary[]> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      servername: serverName ?? (/^[\d.:]+$/.test(host) ? undefined : host),
      rejectUnauthorized: false,
    })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve([])
    }, timeoutMs)
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      const chain: ServerCertificateSummary[] = []
      let certificate: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = socket.getPeerCertificate(true)
      const seen = new Set<string>()
      while (certificate && certificate.fingerprint256 && !seen.has(certificate.fingerprint256)) {
        seen.add(certificate.fingerprint256)
        chain.push({
          subject: Object.entries(certificate.subject ?? {})
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(', '),
          issuer: Object.entries(certificate.issuer ?? {})
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(', '),
          names: names(certificate),
          validFrom: new Date(certificate.valid_from).toISOString(),
          validTo: new Date(certificate.valid_to).toISOString(),
          fingerprint256: certificate.fingerprint256,
        })
        certificate = certificate.issuerCertificate
      }
      socket.destroy()
      resolve(chain)
    })
    socket.once('error', () => {
      clearTimeout(timer)
      resolve([])
    })
  })
}

/**
 * Checks the client's own certificate and key before any connection: a wrong passphrase or a
 * key from another certificate is named here, not lost in a handshake error.
 */
export function checkClientMaterial(profile: ConnectionProfile): Diagnosis | undefined {
  const client = profile.tls.client
  if (client.mode !== 'pem' || !client.privateKeyPem || !client.certificatePem) return undefined
  let key
  try {
    key = createPrivateKey({ key: client.privateKeyPem, passphrase: client.passphrase })
  } catch (error) {
    const detail = (error as Error).message
    if (/ENCRYPTED/.test(client.privateKeyPem)) {
      const summary = message(client.passphrase ? 'diagnosis.wrongKeyPassphraseGiven' : 'diagnosis.wrongKeyPassphraseMissing')
      return diagnosis('wrong-key-passphrase', { summary }, { detail })
    }
    return diagnosis('unreadable-client-material', {}, { detail })
  }
  let certificate
  try {
    certificate = new X509Certificate(client.certificatePem)
  } catch (error) {
    return diagnosis(
      'unreadable-client-material',
      { summary: message('diagnosis.unreadableClientCertificate'), nextStep: message('diagnosis.unreadableClientCertificateNext') },
      { detail: (error as Error).message },
    )
  }
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' })
  const fromCertificate = certificate.publicKey.export({ type: 'spki', format: 'der' })
  if (!fromKey.equals(fromCertificate)) {
    return diagnosis('key-certificate-mismatch', { nextStep: message('diagnosis.keyCertificateMismatchNextBundle') })
  }
  const now = Date.now()
  if (now > Date.parse(certificate.validTo)) {
    const date = new Date(certificate.validTo).toISOString().slice(0, 10)
    return diagnosis('client-certificate-expired', { summary: message('diagnosis.clientCertificateExpired', { date }) })
  }
  if (now < Date.parse(certificate.validFrom)) {
    const date = new Date(certificate.validFrom).toISOString().slice(0, 16)
    return diagnosis('client-certificate-not-yet-valid', { summary: message('diagnosis.clientCertificateNotYetValid', { date }) })
  }
  return undefined
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
])
const CLIENT_REFUSED =
  /ALERT[_ ](UNKNOWN[_ ]CA|BAD[_ ]CERTIFICATE|CERTIFICATE[_ ]REQUIRED|CERTIFICATE[_ ]UNKNOWN|DECRYPT[_ ]ERROR|ACCESS[_ ]DENIED|HANDSHAKE[_ ]FAILURE)/i

/**
 * MQTT 3.1.1 CONNACK codes and their MQTT 5 reason-code equivalents, with the next step for
 * Certdesk's own broker where it differs (advice about its registry).
 */
const MQTT_REFUSALS = new Map<number, { code: DiagnosisCode; ownNextStep?: MessageKey }>(
  (
    [
      [[1, 0x84], { code: 'mqtt-unsupported-protocol' }],
      [[2, 0x85], { code: 'mqtt-client-id-rejected', ownNextStep: 'diagnosis.mqttClientIdRejectedNextOwn' }],
      [[3, 0x88], { code: 'mqtt-server-unavailable' }],
      [[4, 0x86], { code: 'mqtt-bad-credentials', ownNextStep: 'diagnosis.mqttBadCredentialsNextOwn' }],
      [[5, 0x87], { code: 'mqtt-not-authorized', ownNextStep: 'diagnosis.mqttNotAuthorizedNextOwn' }],
    ] satisfies [number[], { code: DiagnosisCode; ownNextStep?: MessageKey }][]
  ).flatMap(([codes, refusal]) => codes.map((code): [number, typeof refusal] => [code, refusal])),
)

/** What a rule sees of a failed connection, worked out once. */
export interface FailureContext {
  profile: DiagnosableProfile
  /** The error's code as text, '' when it has none. */
  codeText: string
  /** The error's message, kept in the diagnosis as its detail. */
  detail: string
  /** Code and message together: OpenSSL's reason sometimes arrives only in the message (code EPROTO). */
  evidence: string
  /** `host:port`, for the sentences. */
  target: string
  /** Reads the server's chain (without trusting it); only the rules that show it call this. */
  serverChain(): Promise<ServerCertificateSummary[]>
}

/** One way a connection fails: how to recognise it, and what to tell the operator. */
export interface DiagnosisRule {
  matches(error: FailureError, context: FailureContext): boolean
  diagnose(error: FailureError, context: FailureContext): Diagnosis | Promise<Diagnosis>
}

/** Anything no rule recognises: the error as it came. Always last. */
const UNKNOWN_FAILURE: DiagnosisRule = {
  matches: () => true,
  diagnose: (_error, { detail }) => diagnosis('unknown', { summary: message('diagnosis.unknown', { detail }) }, { detail }),
}

/** Returns this code's diagnosis, with the error's detail, when the evidence matches `pattern`. */
function byEvidence(pattern: RegExp, code: DiagnosisCode): DiagnosisRule {
  return { matches: (_error, { evidence }) => pattern.test(evidence), diagnose: (_error, { detail }) => diagnosis(code, {}, { detail }) }
}

/** The next step for Certdesk's own broker when there is one, else the one for any broker. */
const nextStepFor = (context: FailureContext, own: Message, any?: Message): Message | undefined =>
  context.profile.certdeskBroker ? own : any

/**
 * The diagnosis rules, in order: the first that matches names the failure. Order matters where
 * the evidence overlaps: an MQTT refusal before anything else, certificate verification codes
 * before handshake alerts, a reset with a client certificate (refused) before a plain reset.
 */
export const DIAGNOSIS_RULES: readonly DiagnosisRule[] = [
  {
    // A CONNACK refusal: mqtt.js puts the return code (a number) on the error.
    matches: (error) => typeof error.code === 'number' && MQTT_REFUSALS.has(error.code),
    diagnose: (error, context) => {
      const { code, ownNextStep } = MQTT_REFUSALS.get(error.code as number)!
      const nextStep = ownNextStep && context.profile.certdeskBroker ? { key: ownNextStep } : undefined
      return diagnosis(code, { nextStep }, { detail: context.detail })
    },
  },
  {
    matches: (_error, { codeText }) => UNTRUSTED.has(codeText),
    diagnose: async (_error, context) =>
      diagnosis(
        'untrusted-ca',
        {
          summary: message('diagnosis.untrustedCa', { target: context.target }),
          nextStep: nextStepFor(context, message('diagnosis.untrustedCaNextOwn')),
        },
        { detail: context.detail, serverChain: await context.serverChain() },
      ),
  },
  {
    matches: (_error, { codeText }) => codeText === 'ERR_TLS_CERT_ALTNAME_INVALID',
    diagnose: async (error, { profile, detail, serverChain: readChain }) => {
      const serverChain = await readChain()
      const certificateNames = error.cert ? names(error.cert) : (serverChain[0]?.names ?? [])
      const name = profile.tls.verification.serverName ?? profile.host
      const summary =
        certificateNames.length > 0
          ? message('diagnosis.hostNameMismatch', { name, names: certificateNames.join(', ') })
          : message('diagnosis.hostNameMismatchNoNames', { name })
      return diagnosis('host-name-mismatch', { summary }, { detail, serverChain })
    },
  },
  {
    matches: (_error, { codeText }) => codeText === 'CERT_HAS_EXPIRED' || codeText === 'CERT_NOT_YET_VALID',
    diagnose: async (_error, { codeText, detail, serverChain: readChain }) => {
      const serverChain = await readChain()
      const leaf = serverChain[0]
      if (codeText === 'CERT_HAS_EXPIRED') {
        const summary = leaf
          ? message('diagnosis.serverCertificateExpired', { date: leaf.validTo.slice(0, 10) })
          : message('diagnosis.serverCertificateExpiredUndated')
        return diagnosis('server-certificate-expired', { summary }, { detail, serverChain })
      }
      const summary = leaf
        ? message('diagnosis.serverCertificateNotYetValid', { date: leaf.validFrom.slice(0, 16) })
        : message('diagnosis.serverCertificateNotYetValidUndated')
      return diagnosis('server-certificate-not-yet-valid', { summary }, { detail, serverChain })
    },
  },
  byEvidence(/BAD[_ ]DECRYPT|MAC[_ ]VERIFY[_ ]FAILURE/i, 'wrong-key-passphrase'),
  byEvidence(/KEY[_ ]VALUES[_ ]MISMATCH/i, 'key-certificate-mismatch'),
  byEvidence(/ALERT[_ ]PROTOCOL[_ ]VERSION|UNSUPPORTED[_ ]PROTOCOL|NO[_ ]PROTOCOLS[_ ]AVAILABLE/i, 'tls-version-mismatch'),
  byEvidence(/NO[_ ]APPLICATION[_ ]PROTOCOL/i, 'alpn-mismatch'),
  {
    matches: (_error, { evidence }) => /WRONG[_ ]VERSION[_ ]NUMBER|PACKET[_ ]LENGTH[_ ]TOO[_ ]LONG|HTTP[_ ]REQUEST/i.test(evidence),
    // The ports named are the ones tried and, for Certdesk's broker, the ones it listens on:
    // never a convention (8883) that this broker may not follow.
    diagnose: (_error, context) =>
      diagnosis(
        'not-tls',
        {
          summary: message('diagnosis.notTls', { target: context.target }),
          nextStep: context.profile.certdeskBroker
            ? message('diagnosis.notTlsNextOwn', context.profile.certdeskBroker)
            : message('diagnosis.notTlsNext', { port: context.profile.port }),
        },
        { detail: context.detail },
      ),
  },
  {
    // A handshake alert about the client's certificate; or, when one was presented, a reset
    // mid-handshake (how some brokers refuse it).
    matches: (_error, { profile, codeText, evidence }) =>
      CLIENT_REFUSED.test(evidence) || (profile.tls.client.mode !== 'none' && /ECONNRESET|EPIPE/.test(codeText)),
    diagnose: (_error, context) => {
      const own = context.profile.certdeskBroker
      const said =
        context.profile.tls.client.mode !== 'none'
          ? { nextStep: own ? message('diagnosis.clientCertificateRefusedNextOwn') : undefined }
          : {
              summary: message('diagnosis.clientCertificateMissing'),
              nextStep: own
                ? message('diagnosis.clientCertificateMissingNextOwn', { mutualPort: own.mutualPort })
                : message('diagnosis.clientCertificateMissingNext'),
            }
      return diagnosis('client-certificate-refused', said, { detail: context.detail })
    },
  },
  {
    matches: (_error, { codeText }) => codeText === 'ECONNREFUSED',
    diagnose: (_error, { target, detail }) =>
      diagnosis('connection-refused', { summary: message('diagnosis.connectionRefused', { target }) }, { detail }),
  },
  {
    matches: (_error, { codeText }) => codeText === 'ENOTFOUND' || codeText === 'EAI_AGAIN',
    diagnose: (_error, { profile, detail }) => diagnosis('dns', { summary: message('diagnosis.dns', { host: profile.host }) }, { detail }),
  },
  {
    matches: (_error, { codeText, detail }) => codeText === 'ETIMEDOUT' || codeText === 'TIMEOUT' || /timeout/i.test(detail),
    diagnose: (_error, { target, detail }) => diagnosis('timeout', { summary: message('diagnosis.timeout', { target }) }, { detail }),
  },
  {
    matches: (_error, { codeText }) => /ECONNRESET|EPIPE|CLOSED/.test(codeText),
    diagnose: (_error, context) =>
      diagnosis(
        'connection-closed',
        { nextStep: nextStepFor(context, message('diagnosis.connectionClosedNextOwn')) },
        { detail: context.detail },
      ),
  },
  UNKNOWN_FAILURE,
]

/** `inspectChain` is how the chain is read: from the server itself, unless a test supplies one. */
export function failureContext(error: FailureError, profile: DiagnosableProfile, inspectChain = inspectServerChain): FailureContext {
  const codeText = String(error.code ?? '')
  return {
    profile,
    codeText,
    detail: error.message,
    evidence: `${codeText} ${error.message}`,
    target: `${profile.host}:${profile.port}`,
    serverChain: () => inspectChain(profile.host, profile.port, profile.tls.verification.serverName),
  }
}

/** Classifies a failed connection from the real error and, for TLS trouble, the server's chain. */
export async function diagnoseFailure(
  error: FailureError,
  profile: DiagnosableProfile,
  inspectChain = inspectServerChain,
): Promise<Diagnosis> {
  const context = failureContext(error, profile, inspectChain)
  const rule = DIAGNOSIS_RULES.find((candidate) => candidate.matches(error, context)) ?? UNKNOWN_FAILURE
  return rule.diagnose(error, context)
}
