import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { type PeerCertificate, connect as tlsConnect } from 'node:tls'
import type { ConnectionProfile } from './profile'
import type { Diagnosis, DiagnosisCode, ServerCertificateSummary } from './types'

export type { Diagnosis, DiagnosisCode, ServerCertificateSummary }

type FailureError = Error & { code?: string | number; reason?: string; cert?: PeerCertificate }

function names(certificate: { subjectaltname?: string }): string[] {
  return (certificate.subjectaltname ?? '')
    .split(',')
    .map((part) => part.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean)
}

/** Reads the server's certificate chain without trusting it: the evidence for a diagnosis. */
export function inspectServerChain(host: string, port: number, serverName?: string, timeoutMs = 5000): Promise<ServerCertificateSummary[]> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, servername: serverName ?? (/^[\d.:]+$/.test(host) ? undefined : host), rejectUnauthorized: false })
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
          subject: Object.entries(certificate.subject ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', '),
          issuer: Object.entries(certificate.issuer ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', '),
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
        summary: client.passphrase ? 'The key passphrase is wrong: the client key does not decrypt with it.' : 'The client key is encrypted and no passphrase was given.',
        nextStep: 'Enter the passphrase the key was exported with.',
        detail: (error as Error).message,
      }
    }
    return { code: 'unreadable-client-material', summary: 'The client key is not a private key Certdesk can read.', nextStep: 'Choose the PEM key file that belongs to the certificate.', detail: (error as Error).message }
  }
  let certificate
  try {
    certificate = new X509Certificate(client.certificatePem)
  } catch (error) {
    return { code: 'unreadable-client-material', summary: 'The client certificate is not a PEM certificate.', nextStep: 'Choose the certificate file (common.crt in a Certdesk bundle).', detail: (error as Error).message }
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
    return { code: 'client-certificate-expired', summary: `The client certificate expired on ${new Date(certificate.validTo).toISOString().slice(0, 10)}.`, nextStep: 'Issue a new certificate for the device (or renew it).' }
  }
  if (now < Date.parse(certificate.validFrom)) {
    return { code: 'client-certificate-not-yet-valid', summary: `The client certificate is not valid before ${new Date(certificate.validFrom).toISOString().slice(0, 16)}.`, nextStep: "Check this computer's clock." }
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
const CLIENT_REFUSED = /ALERT[_ ](UNKNOWN[_ ]CA|BAD[_ ]CERTIFICATE|CERTIFICATE[_ ]REQUIRED|CERTIFICATE[_ ]UNKNOWN|DECRYPT[_ ]ERROR|ACCESS[_ ]DENIED|HANDSHAKE[_ ]FAILURE)/i

/** MQTT 3.1.1 CONNACK codes and their MQTT 5 reason-code equivalents. */
function mqttRefusal(code: number): Diagnosis | undefined {
  switch (code) {
    case 1:
    case 0x84:
      return { code: 'mqtt-unsupported-protocol', summary: 'The broker does not speak this MQTT version.', nextStep: 'Switch the MQTT version (3.1.1 is the safe choice).' }
    case 2:
    case 0x85:
      return { code: 'mqtt-client-id-rejected', summary: 'The broker rejected the client id.', nextStep: 'Use the device ID exactly as registered as the client id.' }
    case 3:
    case 0x88:
      return { code: 'mqtt-server-unavailable', summary: 'The broker says it is unavailable.', nextStep: 'Try again later, or look at the broker’s own log.' }
    case 4:
    case 0x86:
      return { code: 'mqtt-bad-credentials', summary: 'The broker refused the username or password.', nextStep: 'Check the connect username and the device key (the password) on the device page.' }
    case 5:
    case 0x87:
      return { code: 'mqtt-not-authorized', summary: 'The broker refused this client: not authorized.', nextStep: 'Check that the device may connect this way (authentication type, certificate bound and enabled).' }
    default:
      return undefined
  }
}

/** Classifies a failed connection from the real error and, for TLS trouble, the server's chain. */
export async function diagnoseFailure(error: FailureError, profile: ConnectionProfile): Promise<Diagnosis> {
  const code = error.code
  const detail = error.message
  if (typeof code === 'number') {
    const refusal = mqttRefusal(code)
    if (refusal) return { ...refusal, detail }
  }
  const codeText = String(code ?? '')
  // OpenSSL's reason sometimes arrives only in the message (code EPROTO): read both.
  const evidence = `${codeText} ${detail}`
  const target = `${profile.host}:${profile.port}`
  const chain = () => inspectServerChain(profile.host, profile.port, profile.tls.verification.serverName)

  if (UNTRUSTED.has(codeText)) {
    return {
      code: 'untrusted-ca',
      summary: `The server's certificate at ${target} is not signed by a CA this profile trusts.`,
      nextStep: "Trust the CA that issued the broker's certificate (Certdesk's root_ca.crt for Certdesk's broker), or choose the right broker.",
      detail,
      serverChain: await chain(),
    }
  }
  if (codeText === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const serverChain = await chain()
    const certificateNames = error.cert ? names(error.cert) : (serverChain[0]?.names ?? [])
    const asked = profile.tls.verification.serverName ?? profile.host
    return {
      code: 'host-name-mismatch',
      summary: `"${asked}" is not a name in the server's certificate, which has: ${certificateNames.join(', ') || '(no names)'}.`,
      nextStep: 'Connect by one of those names, set the server name override to one of them, or re-issue the server certificate with this name.',
      detail,
      serverChain,
    }
  }
  if (codeText === 'CERT_HAS_EXPIRED' || codeText === 'CERT_NOT_YET_VALID') {
    const serverChain = await chain()
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
  }
  if (/BAD[_ ]DECRYPT|MAC[_ ]VERIFY[_ ]FAILURE/i.test(evidence)) {
    return { code: 'wrong-key-passphrase', summary: 'The key passphrase is wrong.', nextStep: 'Enter the passphrase the key was exported with.', detail }
  }
  if (/KEY[_ ]VALUES[_ ]MISMATCH/i.test(evidence)) {
    return { code: 'key-certificate-mismatch', summary: 'The client key does not belong to the client certificate.', nextStep: 'Use the key issued with this certificate.', detail }
  }
  if (/ALERT[_ ]PROTOCOL[_ ]VERSION|UNSUPPORTED[_ ]PROTOCOL|NO[_ ]PROTOCOLS[_ ]AVAILABLE/i.test(evidence)) {
    return { code: 'tls-version-mismatch', summary: 'The client and the broker share no TLS version.', nextStep: 'Change the minimum or maximum TLS version (most brokers take TLS 1.2).', detail }
  }
  if (/NO[_ ]APPLICATION[_ ]PROTOCOL/i.test(evidence)) {
    return { code: 'alpn-mismatch', summary: 'The broker accepts none of the ALPN protocols offered.', nextStep: 'Remove the ALPN protocols, or offer the one the broker expects (often "mqtt").', detail }
  }
  if (/WRONG[_ ]VERSION[_ ]NUMBER|PACKET[_ ]LENGTH[_ ]TOO[_ ]LONG|HTTP[_ ]REQUEST/i.test(evidence)) {
    return { code: 'not-tls', summary: `${target} does not answer with TLS.`, nextStep: 'Check the port: 8883 and 8884 are the TLS ports; 1883 is plain MQTT.', detail }
  }
  const presentedCertificate = profile.tls.client.mode !== 'none'
  if (CLIENT_REFUSED.test(evidence) || (presentedCertificate && /ECONNRESET|EPIPE/.test(codeText))) {
    return {
      code: 'client-certificate-refused',
      summary: presentedCertificate
        ? 'The broker refused the client certificate during the TLS handshake.'
        : 'The broker requires a client certificate, and none was given.',
      nextStep: presentedCertificate
        ? "Check that the certificate is issued by the CA the broker trusts (its cafile), and is not expired or revoked."
        : "Choose the device's certificate and key (mutual TLS, port 8884).",
      detail,
    }
  }
  if (codeText === 'ECONNREFUSED') {
    return { code: 'connection-refused', summary: `Nothing is listening at ${target}.`, nextStep: 'Start the broker, or check the host and port.', detail }
  }
  if (codeText === 'ENOTFOUND' || codeText === 'EAI_AGAIN') {
    return { code: 'dns', summary: `The host name "${profile.host}" does not resolve.`, nextStep: 'Check the spelling, or use the IP address.', detail }
  }
  if (codeText === 'ETIMEDOUT' || codeText === 'TIMEOUT' || /timeout/i.test(detail)) {
    return { code: 'timeout', summary: `${target} did not answer in time.`, nextStep: 'Check that the broker is up and that no firewall drops the connection.', detail }
  }
  if (/ECONNRESET|EPIPE|CLOSED/.test(codeText)) {
    return { code: 'connection-closed', summary: 'The broker closed the connection.', nextStep: "Look at the broker's log for why.", detail }
  }
  return { code: 'unknown', summary: `The connection failed: ${detail}`, nextStep: 'Show the details and check the broker.', detail }
}
