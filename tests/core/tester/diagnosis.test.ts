// The diagnosis table, with errors shaped like the ones Node's TLS stack and mqtt.js raise (code,
// message, and for a name mismatch the peer certificate). No broker and no network: the server's
// chain comes from a stand-in. tests/core/tester/quickTest.test.ts provokes the real ones.
import { ErrorWithReasonCode } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { message, renderMessage } from '../../../src-main/core/messages'
import type { ConnectionProfile } from '../../../src-main/core/tester/connectionProfile'
import {
  DIAGNOSIS_RULES,
  type FailureError,
  diagnoseFailure,
  diagnosis as said,
  failureContext,
} from '../../../src-main/core/tester/diagnosis'
import type { DiagnosisCode, ServerCertificateSummary } from '../../../src-main/core/tester/types'

const LEAF: ServerCertificateSummary = {
  subject: 'CN=broker.example',
  issuer: 'CN=Certdesk Root CA',
  names: ['broker.example', '10.0.0.7'],
  validFrom: '2024-01-01T00:00:00.000Z',
  validTo: '2025-01-01T00:00:00.000Z',
  fingerprint256: 'AA:BB',
}

function profile(client: ConnectionProfile['tls']['client']['mode'] = 'none', serverName?: string): ConnectionProfile {
  return {
    host: 'localhost',
    port: 8884,
    clientId: 'pump-0001',
    protocolVersion: 4,
    keepalive: 30,
    clean: true,
    connectTimeoutMs: 8000,
    tls: { verification: { mode: 'pem', caPem: 'CA', serverName }, client: { mode: client } },
  }
}

/** An error as Node raises it: a message, a code, and whatever else it carries. */
function failure(message: string, fields: Partial<FailureError> & Record<string, unknown> = {}): FailureError {
  return Object.assign(new Error(message), fields)
}

/** Diagnoses with a stand-in for the server, counting how often its chain was read. */
async function diagnose(error: FailureError, connection = profile()) {
  let inspected = 0
  const diagnosis = await diagnoseFailure(error, connection, async () => {
    inspected += 1
    return [LEAF]
  })
  return { diagnosis, inspected }
}

const openssl = (reason: string) =>
  `C0E7F1A8:error:0A000086:SSL routines:tls_post_process_server_certificate:${reason}:../deps/openssl/openssl/ssl/statem/statem_clnt.c:1889:`

/** Each case: the error, the client mode of the profile, the expected code, and whether the chain is shown. */
const CASES: { name: string; error: FailureError; client?: 'none' | 'pem'; code: DiagnosisCode; chain?: boolean }[] = [
  { name: 'CONNACK 4', error: new ErrorWithReasonCode('Connection refused: Bad username or password', 4), code: 'mqtt-bad-credentials' },
  {
    name: 'MQTT 5 reason 0x86',
    error: new ErrorWithReasonCode('Connection refused: Bad User Name or Password', 0x86),
    code: 'mqtt-bad-credentials',
  },
  { name: 'CONNACK 5', error: new ErrorWithReasonCode('Connection refused: Not authorized', 5), code: 'mqtt-not-authorized' },
  { name: 'MQTT 5 reason 0x87', error: new ErrorWithReasonCode('Connection refused: Not authorized', 0x87), code: 'mqtt-not-authorized' },
  {
    name: 'CONNACK 1',
    error: new ErrorWithReasonCode('Connection refused: Unacceptable protocol version', 1),
    code: 'mqtt-unsupported-protocol',
  },
  {
    name: 'MQTT 5 reason 0x84',
    error: new ErrorWithReasonCode('Connection refused: Unsupported Protocol Version', 0x84),
    code: 'mqtt-unsupported-protocol',
  },
  { name: 'CONNACK 2', error: new ErrorWithReasonCode('Connection refused: Identifier rejected', 2), code: 'mqtt-client-id-rejected' },
  {
    name: 'MQTT 5 reason 0x85',
    error: new ErrorWithReasonCode('Connection refused: Client Identifier not valid', 0x85),
    code: 'mqtt-client-id-rejected',
  },
  { name: 'CONNACK 3', error: new ErrorWithReasonCode('Connection refused: Server unavailable', 3), code: 'mqtt-server-unavailable' },
  {
    name: 'MQTT 5 reason 0x88',
    error: new ErrorWithReasonCode('Connection refused: Server unavailable', 0x88),
    code: 'mqtt-server-unavailable',
  },
  {
    name: 'leaf not verifiable',
    error: failure('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    code: 'untrusted-ca',
    chain: true,
  },
  {
    name: 'self-signed in chain',
    error: failure('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
    code: 'untrusted-ca',
    chain: true,
  },
  {
    name: 'self-signed leaf',
    error: failure('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    code: 'untrusted-ca',
    chain: true,
  },
  {
    name: 'issuer unknown locally',
    error: failure('unable to get local issuer certificate', { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }),
    code: 'untrusted-ca',
    chain: true,
  },
  {
    name: 'name mismatch',
    error: failure(
      "Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:broker.example",
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        reason: "Host: localhost. is not in the cert's altnames: DNS:broker.example",
      },
    ),
    code: 'host-name-mismatch',
    chain: true,
  },
  {
    name: 'server certificate expired',
    error: failure('certificate has expired', { code: 'CERT_HAS_EXPIRED' }),
    code: 'server-certificate-expired',
    chain: true,
  },
  {
    name: 'server certificate not yet valid',
    error: failure('certificate is not yet valid', { code: 'CERT_NOT_YET_VALID' }),
    code: 'server-certificate-not-yet-valid',
    chain: true,
  },
  {
    name: 'bad decrypt',
    error: failure('error:1C800064:Provider routines::bad decrypt', { code: 'ERR_OSSL_BAD_DECRYPT' }),
    client: 'pem',
    code: 'wrong-key-passphrase',
  },
  { name: 'PKCS#12 MAC', error: failure('mac verify failure'), client: 'pem', code: 'wrong-key-passphrase' },
  {
    name: 'key of another certificate',
    error: failure('error:05800074:x509 certificate routines::key values mismatch', { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' }),
    client: 'pem',
    code: 'key-certificate-mismatch',
  },
  {
    name: 'protocol version alert',
    error: failure(openssl('tlsv1 alert protocol version'), { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }),
    code: 'tls-version-mismatch',
  },
  {
    name: 'unsupported protocol',
    error: failure(openssl('unsupported protocol'), { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' }),
    code: 'tls-version-mismatch',
  },
  {
    name: 'ALPN refused',
    error: failure(openssl('tlsv1 alert no application protocol'), { code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' }),
    code: 'alpn-mismatch',
  },
  // EPROTO carries OpenSSL's reason in the message only.
  { name: 'plain MQTT port', error: failure(`write EPROTO ${openssl('wrong version number')}`, { code: 'EPROTO' }), code: 'not-tls' },
  {
    name: 'unknown CA alert',
    error: failure(openssl('tlsv1 alert unknown ca'), { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' }),
    client: 'pem',
    code: 'client-certificate-refused',
  },
  {
    name: 'certificate required alert',
    error: failure(openssl('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }),
    code: 'client-certificate-refused',
  },
  {
    name: 'reset with a certificate',
    error: failure('read ECONNRESET', { code: 'ECONNRESET', syscall: 'read' }),
    client: 'pem',
    code: 'client-certificate-refused',
  },
  {
    name: 'nothing listening',
    error: failure('connect ECONNREFUSED 127.0.0.1:8884', { code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 8884 }),
    code: 'connection-refused',
  },
  {
    name: 'unknown host',
    error: failure('getaddrinfo ENOTFOUND nowhere.invalid', { code: 'ENOTFOUND', hostname: 'nowhere.invalid' }),
    code: 'dns',
  },
  { name: 'DNS unavailable', error: failure('getaddrinfo EAI_AGAIN broker.example', { code: 'EAI_AGAIN' }), code: 'dns' },
  { name: 'TCP timeout', error: failure('connect ETIMEDOUT 10.0.0.7:8884', { code: 'ETIMEDOUT' }), code: 'timeout' },
  { name: "the tester's own timer", error: failure('no answer within 8000 ms', { code: 'TIMEOUT' }), code: 'timeout' },
  { name: "mqtt.js's connack timer", error: failure('connack timeout'), code: 'timeout' },
  { name: 'reset without a certificate', error: failure('read ECONNRESET', { code: 'ECONNRESET' }), code: 'connection-closed' },
  {
    name: 'closed before CONNACK',
    error: failure('the connection closed before the broker answered', { code: 'CLOSED' }),
    code: 'connection-closed',
  },
  { name: 'a refusal no rule knows', error: new ErrorWithReasonCode('Connection refused: Banned', 0x8a), code: 'unknown' },
  { name: 'anything else', error: failure('something odd', { code: 'EWHATEVER' }), code: 'unknown' },
]

describe('the diagnosis rules', () => {
  it.each(CASES)('$name → $code', async ({ error, client, code, chain }) => {
    const { diagnosis, inspected } = await diagnose(error, profile(client))
    expect(diagnosis.code).toBe(code)
    expect(diagnosis.detail).toBe(error.message)
    expect(diagnosis.summary).not.toBe('')
    expect(diagnosis.nextStep).not.toBe('')
    // The chain is read (a second connection) only where the diagnosis shows it.
    expect(inspected).toBe(chain ? 1 : 0)
    expect(diagnosis.serverChain).toEqual(chain ? [LEAF] : undefined)
  })

  it('every rule is the first match for some real error, and the last one matches anything', async () => {
    const first = new Set<number>()
    const noChain = async () => []
    for (const { error, client } of CASES) {
      const context = failureContext(error, profile(client), noChain)
      first.add(DIAGNOSIS_RULES.findIndex((rule) => rule.matches(error, context)))
    }
    expect([...first].sort((a, b) => a - b)).toEqual(DIAGNOSIS_RULES.map((_rule, index) => index))
    const nothing = failure('')
    expect(DIAGNOSIS_RULES.at(-1)?.matches(nothing, failureContext(nothing, profile(), noChain))).toBe(true)
  })

  it('names the names: the peer certificate when the error carries it, else the chain read', async () => {
    const mismatch = { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }
    const withCert = await diagnose(
      failure("Hostname/IP does not match certificate's altnames", {
        ...mismatch,
        cert: { subjectaltname: 'DNS:mqtt.example, IP Address:192.0.2.1' } as never,
      }),
    )
    expect(withCert.diagnosis.summary).toBe(`"localhost" is not a name in the server's certificate, which has: mqtt.example, 192.0.2.1.`)
    const fromChain = await diagnose(
      failure("Hostname/IP does not match certificate's altnames", mismatch),
      profile('none', 'broker.local'),
    )
    expect(fromChain.diagnosis.summary).toBe(
      `"broker.local" is not a name in the server's certificate, which has: broker.example, 10.0.0.7.`,
    )
  })

  it("dates a server certificate's expiry from the chain, and says when there is none", async () => {
    expect((await diagnose(failure('certificate has expired', { code: 'CERT_HAS_EXPIRED' }))).diagnosis.summary).toBe(
      "The server's certificate expired on 2025-01-01.",
    )
    const early = await diagnose(failure('certificate is not yet valid', { code: 'CERT_NOT_YET_VALID' }))
    expect(early.diagnosis.summary).toBe("The server's certificate is not valid yet (from 2024-01-01T00:00); check this computer's clock.")
    const unreachable = await diagnoseFailure(failure('certificate has expired', { code: 'CERT_HAS_EXPIRED' }), profile(), async () => [])
    expect(unreachable).toMatchObject({ summary: "The server's certificate expired.", serverChain: [] })
  })

  it('tells a missing client certificate from a refused one, and names the target', async () => {
    const required = failure(openssl('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' })
    expect((await diagnose(required, profile('none'))).diagnosis.summary).toBe(
      'The broker requires a client certificate, and none was given.',
    )
    expect((await diagnose(required, profile('pem'))).diagnosis.summary).toBe(
      'The broker refused the client certificate during the TLS handshake.',
    )
    const refused = await diagnose(failure('connect ECONNREFUSED 127.0.0.1:8884', { code: 'ECONNREFUSED' }))
    expect(refused.diagnosis.summary).toBe('Nothing is listening at localhost:8884.')
  })
})

describe('advice for the broker that was dialled', () => {
  const OWN = { oneWayPort: 2883, mutualPort: 2884 }
  const own = (client: 'none' | 'pem' = 'none') => ({ ...profile(client), certdeskBroker: OWN })
  const foreign = (client: 'none' | 'pem' = 'none') => ({ ...profile(client), host: 'broker.example', port: 9000 })
  const REGISTRY_ADVICE = /Certdesk|device page|device ID|bound|Authority|root_ca/
  const plainPort = failure(`write EPROTO ${openssl('wrong version number')}`, { code: 'EPROTO' })

  it('"not TLS" names the port tried, or the ports Certdesk\'s broker listens on: never 8883/8884 by convention', async () => {
    const elsewhere = await diagnoseFailure(plainPort, foreign(), async () => [])
    expect(elsewhere.summary).toBe('broker.example:9000 does not answer with TLS.')
    expect(elsewhere.nextStep).toContain('9000')
    expect(elsewhere.nextStep).not.toMatch(/8883|8884|Certdesk/)
    const ours = await diagnoseFailure(plainPort, own(), async () => [])
    expect(ours.nextStep).toBe("Check the port: Certdesk's broker speaks TLS on 2883 (one-way) and 2884 (mutual).")
    expect(ours.messages?.nextStep).toEqual({ key: 'diagnosis.notTlsNextOwn', params: OWN })
  })

  it("gives advice about Certdesk's registry only when the peer is Certdesk's own broker", async () => {
    const cases: [FailureError, 'none' | 'pem'][] = [
      [new ErrorWithReasonCode('Connection refused: Bad username or password', 4), 'none'],
      [new ErrorWithReasonCode('Connection refused: Not authorized', 5), 'none'],
      [new ErrorWithReasonCode('Connection refused: Identifier rejected', 2), 'none'],
      [failure('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'none'],
      [failure(openssl('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), 'none'],
      [failure(openssl('tlsv1 alert unknown ca'), { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' }), 'pem'],
      [failure('read ECONNRESET', { code: 'ECONNRESET' }), 'none'],
    ]
    for (const [error, client] of cases) {
      const elsewhere = await diagnoseFailure(error, foreign(client), async () => [])
      expect(elsewhere.nextStep, elsewhere.code).not.toMatch(REGISTRY_ADVICE)
      const ours = await diagnoseFailure(error, own(client), async () => [])
      expect(ours.code).toBe(elsewhere.code)
      expect(ours.nextStep, ours.code).not.toBe(elsewhere.nextStep)
    }
    const missing = await diagnoseFailure(cases[4][0], own(), async () => [])
    expect(missing.nextStep).toBe("Choose the device's certificate and key (mutual TLS, port 2884).")
    const bad = await diagnoseFailure(cases[0][0], own(), async () => [])
    expect(bad.nextStep).toBe('Check the connect username and the device key (the password) on the device page.')
  })

  it('says every diagnosis as the catalog does: the English is the catalog sentence with its values', async () => {
    for (const { error, client } of CASES) {
      for (const connection of [own(client), foreign(client)]) {
        const diagnosis = await diagnoseFailure(error, connection, async () => [LEAF])
        expect(diagnosis.messages, diagnosis.code).toBeDefined()
        expect(renderMessage(diagnosis.messages!.summary)).toBe(diagnosis.summary)
        expect(renderMessage(diagnosis.messages!.nextStep)).toBe(diagnosis.nextStep)
        expect(`${diagnosis.summary} ${diagnosis.nextStep}`, diagnosis.code).not.toMatch(/\{\w+\}/)
      }
    }
  })

  it("builds a diagnosis from the catalog's sentences: the code's own, or those given", () => {
    expect(said('mqtt-server-unavailable')).toEqual({
      code: 'mqtt-server-unavailable',
      summary: 'The broker says it is unavailable.',
      nextStep: 'Try again later, or look at the broker’s own log.',
      messages: { summary: { key: 'diagnosis.mqttServerUnavailable' }, nextStep: { key: 'diagnosis.mqttServerUnavailableNext' } },
    })
    const roundTrip = said('connection-closed', {
      summary: message('diagnosis.roundTripFailed', { error: 'the message did not come back within 5 s' }),
      nextStep: message('diagnosis.roundTripFailedNext'),
    })
    expect([roundTrip.summary, roundTrip.nextStep]).toEqual([
      'Connected, but the round trip failed: the message did not come back within 5 s.',
      'Check that the broker lets this client subscribe and publish to /hello.',
    ])
  })
})
