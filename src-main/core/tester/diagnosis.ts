import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { type PeerCertificate, connect as tlsConnect } from 'node:tls'
import type { ConnectionProfile } from './connectionProfile'
import type { Diagnosis, ServerCertificateSummary } from './types'

export type { Diagnosis }

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
    const encrypted = /ENCRYPTED/.test(client.privateKeyPem)
    if (encrypted) {
      return {
        code: 'wrong-key-passphrase',
        summary: client.passphrase
          ? 'The key passphrase is wrong: the client key does not decrypt with it.'
          : 'The client key is encrypted and no passphrase was given.',
        nextStep: 'Enter the passphrase the key was exported with.',
        detail: (error as Error).message,
      }
    }
    return {
      code: 'unreadable-client-material',
      summary: 'The client key is not a private key Certdesk can read.',
      nextStep: 'Choose the PEM key file that belongs to the certificate.',
      detail: (error as Error).message,
    }
  }
  let certificate
  try {
    certificate = new X509Certificate(client.certificatePem)
  } catch (error) {
    return {
      code: 'unreadable-client-material',
      summary: 'The client certificate is not a PEM certificate.',
      nextStep: 'Choose the certificate file (common.crt in a Certdesk bundle).',
      detail: (error as Error).message,
    }
  }
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' })
  const fromCertificate = certificate.publicKey.export({ type: 'spki', format: 'der' })
  if (!fromKey.equals(fromCertificate)) {
    return {
      code: 'key-certificate-mismatch',
      summary: 'The client key does not belong to the client certificate.',
      nextStep: 'Use the key that was issued with this certificate (common.key next to common.crt in the same bundle).',
    }
  }
  const now = Date.now()
  if (now > Date.parse(certificate.validTo)) {
    return {
      code: 'client-certificate-expired',
      summary: `The client certificate expired on ${new Date(certificate.validTo).toISOString().slice(0, 10)}.`,
      nextStep: 'Issue a new certificate for the device (or renew it).',
    }
  }
  if (now < Date.parse(certificate.validFrom)) {
    return {
      code: 'client-certificate-not-yet-valid',
      summary: `The client certificate is not valid before ${new Date(certificate.validFrom).toISOString().slice(0, 16)}.`,
      nextStep: "Check this computer's clock.",
    }
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

type Refusal = Omit<Diagnosis, 'detail'>

/** MQTT 3.1.1 CONNACK codes and their MQTT 5 reason-code equivalents. */
const MQTT_REFUSALS = new Map<number, Refusal>(
  (
    [
      [
        [1, 0x84],
        {
          code: 'mqtt-unsupported-protocol',
          summary: 'The broker does not speak this MQTT version.',
          nextStep: 'Switch the MQTT version (3.1.1 is the safe choice).',
        },
      ],
      [
        [2, 0x85],
        {
          code: 'mqtt-client-id-rejected',
          summary: 'The broker rejected the client id.',
          nextStep: 'Use the device ID exactly as registered as the client id.',
        },
      ],
      [
        [3, 0x88],
        {
          code: 'mqtt-server-unavailable',
          summary: 'The broker says it is unavailable.',
          nextStep: 'Try again later, or look at the broker’s own log.',
        },
      ],
      [
        [4, 0x86],
        {
          code: 'mqtt-bad-credentials',
          summary: 'The broker refused the username or password.',
          nextStep: 'Check the connect username and the device key (the password) on the device page.',
        },
      ],
      [
        [5, 0x87],
        {
          code: 'mqtt-not-authorized',
          summary: 'The broker refused this client: not authorized.',
          nextStep: 'Check that the device may connect this way (authentication type, certificate bound and enabled).',
        },
      ],
    ] satisfies [number[], Refusal][]
  ).flatMap(([codes, refusal]) => codes.map((code): [number, Refusal] => [code, refusal])),
)

/** What a rule sees of a failed connection, worked out once. */
export interface FailureContext {
  profile: ConnectionProfile
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
  diagnose: (_error, { detail }) => ({
    code: 'unknown',
    summary: `The connection failed: ${detail}`,
    nextStep: 'Show the details and check the broker.',
    detail,
  }),
}

/** Returns this diagnosis, with the error's detail, when the evidence matches `pattern`. */
function byEvidence(pattern: RegExp, diagnosis: Refusal): DiagnosisRule {
  return { matches: (_error, { evidence }) => pattern.test(evidence), diagnose: (_error, { detail }) => ({ ...diagnosis, detail }) }
}

/**
 * The diagnosis rules, in order: the first that matches names the failure. Order matters where
 * the evidence overlaps: an MQTT refusal before anything else, certificate verification codes
 * before handshake alerts, a reset with a client certificate (refused) before a plain reset.
 */
export const DIAGNOSIS_RULES: readonly DiagnosisRule[] = [
  {
    // A CONNACK refusal: mqtt.js puts the return code (a number) on the error.
    matches: (error) => typeof error.code === 'number' && MQTT_REFUSALS.has(error.code),
    diagnose: (error, { detail }) => ({ ...(MQTT_REFUSALS.get(error.code as number) as Refusal), detail }),
  },
  {
    matches: (_error, { codeText }) => UNTRUSTED.has(codeText),
    diagnose: async (_error, { target, detail, serverChain }) => ({
      code: 'untrusted-ca',
      summary: `The server's certificate at ${target} is not signed by a CA this profile trusts.`,
      nextStep:
        "Trust the CA that issued the broker's certificate (Certdesk's root_ca.crt for Certdesk's broker), or choose the right broker.",
      detail,
      serverChain: await serverChain(),
    }),
  },
  {
    matches: (_error, { codeText }) => codeText === 'ERR_TLS_CERT_ALTNAME_INVALID',
    diagnose: async (error, { profile, detail, serverChain: readChain }) => {
      const serverChain = await readChain()
      const certificateNames = error.cert ? names(error.cert) : (serverChain[0]?.names ?? [])
      const asked = profile.tls.verification.serverName ?? profile.host
      return {
        code: 'host-name-mismatch',
        summary: `"${asked}" is not a name in the server's certificate, which has: ${certificateNames.join(', ') || '(no names)'}.`,
        nextStep:
          'Connect by one of those names, set the server name override to one of them, or re-issue the server certificate with this name.',
        detail,
        serverChain,
      }
    },
  },
  {
    matches: (_error, { codeText }) => codeText === 'CERT_HAS_EXPIRED' || codeText === 'CERT_NOT_YET_VALID',
    diagnose: async (_error, { codeText, detail, serverChain: readChain }) => {
      const serverChain = await readChain()
      const expired = codeText === 'CERT_HAS_EXPIRED'
      return {
        code: expired ? 'server-certificate-expired' : 'server-certificate-not-yet-valid',
        summary: expired
          ? `The server's certificate expired${serverChain[0] ? ` on ${serverChain[0].validTo.slice(0, 10)}` : ''}.`
          : `The server's certificate is not valid yet${serverChain[0] ? ` (from ${serverChain[0].validFrom.slice(0, 16)})` : ''}; check this computer's clock.`,
        nextStep: expired ? 'Renew the broker’s server certificate.' : 'Correct the clock, or wait until the certificate becomes valid.',
        detail,
        serverChain,
      }
    },
  },
  byEvidence(/BAD[_ ]DECRYPT|MAC[_ ]VERIFY[_ ]FAILURE/i, {
    code: 'wrong-key-passphrase',
    summary: 'The key passphrase is wrong.',
    nextStep: 'Enter the passphrase the key was exported with.',
  }),
  byEvidence(/KEY[_ ]VALUES[_ ]MISMATCH/i, {
    code: 'key-certificate-mismatch',
    summary: 'The client key does not belong to the client certificate.',
    nextStep: 'Use the key issued with this certificate.',
  }),
  byEvidence(/ALERT[_ ]PROTOCOL[_ ]VERSION|UNSUPPORTED[_ ]PROTOCOL|NO[_ ]PROTOCOLS[_ ]AVAILABLE/i, {
    code: 'tls-version-mismatch',
    summary: 'The client and the broker share no TLS version.',
    nextStep: 'Change the minimum or maximum TLS version (most brokers take TLS 1.2).',
  }),
  byEvidence(/NO[_ ]APPLICATION[_ ]PROTOCOL/i, {
    code: 'alpn-mismatch',
    summary: 'The broker accepts none of the ALPN protocols offered.',
    nextStep: 'Remove the ALPN protocols, or offer the one the broker expects (often "mqtt").',
  }),
  {
    matches: (_error, { evidence }) => /WRONG[_ ]VERSION[_ ]NUMBER|PACKET[_ ]LENGTH[_ ]TOO[_ ]LONG|HTTP[_ ]REQUEST/i.test(evidence),
    diagnose: (_error, { target, detail }) => ({
      code: 'not-tls',
      summary: `${target} does not answer with TLS.`,
      nextStep: 'Check the port: 8883 and 8884 are the TLS ports; 1883 is plain MQTT.',
      detail,
    }),
  },
  {
    // A handshake alert about the client's certificate; or, when one was presented, a reset
    // mid-handshake (how some brokers refuse it).
    matches: (_error, { profile, codeText, evidence }) =>
      CLIENT_REFUSED.test(evidence) || (profile.tls.client.mode !== 'none' && /ECONNRESET|EPIPE/.test(codeText)),
    diagnose: (_error, { profile, detail }) => {
      const presentedCertificate = profile.tls.client.mode !== 'none'
      return {
        code: 'client-certificate-refused',
        summary: presentedCertificate
          ? 'The broker refused the client certificate during the TLS handshake.'
          : 'The broker requires a client certificate, and none was given.',
        nextStep: presentedCertificate
          ? 'Check that the certificate is issued by the CA the broker trusts (its cafile), and is not expired or revoked.'
          : "Choose the device's certificate and key (mutual TLS, port 8884).",
        detail,
      }
    },
  },
  {
    matches: (_error, { codeText }) => codeText === 'ECONNREFUSED',
    diagnose: (_error, { target, detail }) => ({
      code: 'connection-refused',
      summary: `Nothing is listening at ${target}.`,
      nextStep: 'Start the broker, or check the host and port.',
      detail,
    }),
  },
  {
    matches: (_error, { codeText }) => codeText === 'ENOTFOUND' || codeText === 'EAI_AGAIN',
    diagnose: (_error, { profile, detail }) => ({
      code: 'dns',
      summary: `The host name "${profile.host}" does not resolve.`,
      nextStep: 'Check the spelling, or use the IP address.',
      detail,
    }),
  },
  {
    matches: (_error, { codeText, detail }) => codeText === 'ETIMEDOUT' || codeText === 'TIMEOUT' || /timeout/i.test(detail),
    diagnose: (_error, { target, detail }) => ({
      code: 'timeout',
      summary: `${target} did not answer in time.`,
      nextStep: 'Check that the broker is up and that no firewall drops the connection.',
      detail,
    }),
  },
  {
    matches: (_error, { codeText }) => /ECONNRESET|EPIPE|CLOSED/.test(codeText),
    diagnose: (_error, { detail }) => ({
      code: 'connection-closed',
      summary: 'The broker closed the connection.',
      nextStep: "Look at the broker's log for why.",
      detail,
    }),
  },
  UNKNOWN_FAILURE,
]

/** `inspectChain` is how the chain is read: from the server itself, unless a test supplies one. */
export function failureContext(error: FailureError, profile: ConnectionProfile, inspectChain = inspectServerChain): FailureContext {
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
  profile: ConnectionProfile,
  inspectChain = inspectServerChain,
): Promise<Diagnosis> {
  const context = failureContext(error, profile, inspectChain)
  const rule = DIAGNOSIS_RULES.find((candidate) => candidate.matches(error, context)) ?? UNKNOWN_FAILURE
  return rule.diagnose(error, context)
}
