import type { ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { brokerOnFreePorts, startServe } from '../helpers/serve'
import { runCertdesk, runCertdeskJson, temporaryFolder } from '../helpers/tools'

let dataDir: string
let serve: ChildProcess
let printed: URL
let cookie: string
let secret: string

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw request: the path is sent exactly as given, malformed escapes included. */
function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: printed.port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `127.0.0.1:${printed.port}`, ...options.headers },
      },
      (response) => {
        let body = ''
        response.on('data', (chunk: Buffer) => (body += chunk.toString()))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      },
    )
    outgoing.on('error', reject)
    outgoing.end(options.body)
  })
}

/** What the signed-in page sends: the session cookie and the session secret, together. */
const signedIn = (headers: Record<string, string> = {}) => ({ cookie, 'x-certdesk-session': secret, ...headers })
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  send(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

beforeAll(async () => {
  dataDir = join(await temporaryFolder('certdesk-serve-'), 'data')
  await runCertdeskJson(['--data', dataDir, 'ca', 'init', '--key-type', 'ec-p256'])
  await brokerOnFreePorts(dataDir)
  await runCertdeskJson(['--data', dataDir, 'cert', 'create', '--name', '水表 证书'])
  const started = await startServe(dataDir)
  serve = started.child
  printed = new URL(started.url)
})

describe('certdesk serve', () => {
  it('signs one browser in: the printed token becomes an HttpOnly SameSite=Strict cookie plus a session secret, and is spent', async () => {
    const token = printed.searchParams.get('token') ?? ''
    // Before any browser signs in, a script may use the token as a Bearer header.
    expect((await post('/api/call/listCertificates', { args: [] }, { authorization: `Bearer ${token}` })).status).toBe(200)
    const first = await send(`/?token=${token}`)
    expect(first.status).toBe(303)
    // The secret travels in the fragment, which the browser never sends to any server.
    expect(first.headers.location).toMatch(/^\/signed-in#[\w-]{43}$/)
    secret = String(first.headers.location).split('#')[1]
    const setCookie = String(first.headers['set-cookie'])
    expect(setCookie).toMatch(new RegExp(`^certdesk_session_${printed.port}=[\\w-]{43}; HttpOnly; SameSite=Strict; Path=/$`))
    cookie = setCookie.split(';')[0]
    // The cookie alone (the browser sends it to every port of 127.0.0.1) opens nothing, nor the secret alone.
    expect((await post('/api/call/listCertificates', { args: [] }, { cookie })).status).toBe(401)
    expect((await post('/api/call/listCertificates', { args: [] }, { 'x-certdesk-session': secret })).status).toBe(401)
    expect((await post('/api/call/listCertificates', { args: [] })).status).toBe(401)
    expect((await send('/api/events', { headers: { cookie } })).status).toBe(401)
    // The token in the browser's history opens nothing now, not even as a Bearer header.
    expect((await send(`/?token=${token}`)).status).toBe(401)
    expect((await post('/api/call/listCertificates', { args: [] }, { authorization: `Bearer ${token}` })).status).toBe(401)
    expect(
      (await post('/api/call/listCertificates', { args: [] }, { cookie: `${cookie.split('=')[0]}=wrong`, 'x-certdesk-session': secret }))
        .status,
    ).toBe(401)
    // The signed-in browser opening the link again just goes to the page, and only to the page;
    // the secret is never handed out twice (a leaked cookie must not fetch it).
    expect((await send(`/?token=${token}`, { headers: { cookie } })).headers.location).toBe('/')
    expect((await send(`/.//evil.example?token=${token}`, { headers: { cookie } })).headers.location).toBe('/')
    const listed = await post('/api/call/listCertificates', { args: [] }, signedIn())
    expect(JSON.parse(listed.body)).toMatchObject({ ok: true, value: [{ name: '水表 证书' }] })
    expect((await post('/api/call/listCertificates', { args: [] }, signedIn({ origin: 'http://evil.example' }))).status).toBe(403)
  })

  it('answers only to its own name: a DNS-rebinding page, reaching the port under another Host, gets 421', async () => {
    const rebound = { host: `rebind.example:${printed.port}` }
    expect((await send('/', { headers: rebound })).status).toBe(421)
    expect((await post('/api/call/listCertificates', { args: [] }, signedIn(rebound))).status).toBe(421)
  })

  it("refuses malformed arguments with the contract's sentence", async () => {
    const bad = await post('/api/call/createDevice', { args: [{ name: 'x', authType: 'password' }] }, signedIn())
    expect(JSON.parse(bad.body)).toEqual({
      ok: false,
      error: expect.stringMatching(/^The request to createDevice was malformed \(at 0\.authType\)/),
      code: 'MALFORMED_REQUEST',
      params: { operation: 'createDevice', at: '0.authType' },
    })
  })

  it('downloads through links that work once, with the real file name (RFC 5987)', async () => {
    const [certificate] = JSON.parse((await post('/api/call/listCertificates', { args: [] }, signedIn())).body).value as { id: string }[]
    const link = JSON.parse((await post('/api/download-link', { kind: 'bundle', certificateId: certificate.id }, signedIn())).body) as {
      value: { url: string }
    }
    expect(link.value.url).toMatch(/^\/download\/[\w-]{32}$/)
    expect((await send(link.value.url)).status).toBe(401)
    const bundle = await send(link.value.url, { headers: signedIn() })
    expect(bundle.status).toBe(200)
    expect(bundle.headers['content-disposition']).toBe(
      `attachment; filename="_.zip"; filename*=UTF-8''${encodeURIComponent('水表 证书.zip')}`,
    )
    expect((await send(link.value.url, { headers: signedIn() })).status).toBe(410)
    const root = JSON.parse((await post('/api/download-link', { kind: 'root' }, signedIn())).body) as { value: { url: string } }
    expect((await send(root.value.url, { headers: signedIn() })).body).toMatch(/^-----BEGIN CERTIFICATE-----/)
    expect(JSON.parse((await post('/api/download-link', { kind: 'bundle', certificateId: 'crt_unknown00' }, signedIn())).body)).toEqual({
      ok: false,
      error: 'There is no certificate "crt_unknown00".',
      code: 'NOT_FOUND',
      messageKey: 'certificate.notFound',
      params: { reference: 'crt_unknown00' },
    })
  })

  it('downloads an export and a CRL through one-time links, and refuses a bad export on the page, before any link', async () => {
    const [certificate] = JSON.parse((await post('/api/call/listCertificates', { args: [] }, signedIn())).body).value as { id: string }[]
    const link = async (body: unknown) => JSON.parse((await post('/api/download-link', body, signedIn())).body) as Record<string, unknown>
    expect(await link({ kind: 'export', certificateId: certificate.id, format: 'p12', options: {} })).toMatchObject({
      ok: false,
      code: 'INVALID_INPUT',
      messageKey: 'export.passphraseRequired',
    })
    expect(await link({ kind: 'export', certificateId: certificate.id, format: 'jks', options: {} })).toMatchObject({
      ok: false,
      code: 'INVALID_INPUT',
    })
    expect(await link({ kind: 'crl', days: 0 })).toMatchObject({ ok: false, code: 'INVALID_INPUT', messageKey: 'validation.crlDays' })

    const exported = (await link({
      kind: 'export',
      certificateId: certificate.id,
      format: 'key',
      options: { passphrase: 'a passphrase' },
    })) as {
      value: { url: string }
    }
    const key = await send(exported.value.url, { headers: signedIn() })
    expect(key.status).toBe(200)
    expect(key.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('水表 证书.key')}`)
    expect(key.body).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
    expect((await send(exported.value.url, { headers: signedIn() })).status).toBe(410)

    const crl = (await link({ kind: 'crl', days: 2 })) as { value: { url: string } }
    const crlFile = await send(crl.value.url, { headers: signedIn() })
    expect(crlFile.headers['content-disposition']).toContain('filename="crl.pem"')
    expect(crlFile.body).toMatch(/^-----BEGIN X509 CRL-----/)
  })

  it('serves the built page with its CSP, assets with their type and no CSP, the page for paths that name no file, and 404 for traversal', async () => {
    const page = await send('/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/)
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.body)?.[1]
    expect(script).toBeDefined()
    const asset = await send(`/${script}`)
    expect(asset.status).toBe(200)
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(asset.headers['content-security-policy']).toBeUndefined()
    // The sign-in's landing path and anything else unknown get the page (the router uses the hash).
    for (const path of ['/signed-in', '/nope.js', '/assets']) {
      const answer = await send(path)
      expect(answer.status, path).toBe(200)
      expect(answer.body, path).toBe(page.body)
    }
    for (const path of ['/..%2f..%2fpackage.json', '/assets%2f..%2f..%2fpackage.json', '/index.html%00.js']) {
      const answer = await send(path)
      expect(answer.status, path).toBe(404)
      expect(answer.body, path).not.toContain('"name": "certdesk"')
    }
  })

  it('answers malformed percent-escapes with 400 and keeps serving (no sign-in needed to send them)', async () => {
    let exited = false
    serve.once('exit', () => (exited = true))
    for (const path of ['/%', '/%zz', '/%E0%A4%A', '/assets/%']) expect((await send(path)).status, path).toBe(400)
    expect((await send('/download/%zz')).status).toBe(401)
    expect((await send('/download/%E0%A4%A', { headers: signedIn() })).status).toBe(400)
    expect((await send('/')).status).toBe(200)
    expect(exited).toBe(false)
  })

  it('on a busy port says so in one sentence and exits, leaving no broker behind', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as { port: number }
    // A second folder whose broker ports are known, so we can see they are free afterwards.
    const otherData = join(await temporaryFolder('certdesk-serve-busy-'), 'data')
    await runCertdeskJson(['--data', otherData, 'ca', 'init', '--key-type', 'ec-p256'])
    const brokerPort = (await brokerOnFreePorts(otherData)).oneWayPort
    const result = await runCertdesk(['--data', otherData, 'serve', '--port', String(port)])
    blocker.close()
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toBe(
      `certdesk: Port ${port} on 127.0.0.1 is already in use; choose another with --port, or leave it out for any free port.`,
    )
    // The process ended, so nothing listens on the broker's port.
    const probe = createServer()
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen(brokerPort, '127.0.0.1', resolve)
    })
    probe.close()
  })
})
