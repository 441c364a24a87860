import { readFile, stat } from 'node:fs/promises'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import { join } from 'node:path'
import { CertdeskError, type CertdeskErrorCode, invalidInput, isCertdeskError } from '../core/errors'
import { portableFileName, savedFileName } from '../core/fileNames'
import type { Workspace } from '../core/workspace'
import { type Dispatch, failureOf } from '../contract/dispatch'
import { type CertdeskEvent, failure } from '../contract/types'
import { ARGUMENTS } from '../contract/schemas'
import { EXPORT_FILE_EXTENSIONS, KEY_FORMATS } from '../core/bundles/certificateExports'
import { rendererFileHeaders, resolveRendererFile } from '../rendererAssets'
import { BrowserSession, type DownloadTarget, SESSION_HEADER } from './session'

const MAX_BODY_BYTES = 1_000_000

export interface ServeOptions {
  /** The folder's workspace; on a folder still without a root CA (first run) this throws NOT_INITIALISED. */
  workspace: () => Workspace
  dispatch: Dispatch
  /** The built renderer (out/renderer). */
  rendererDir: string
  port?: number
  /** Subscribes the server to main-side events, for server-sent events to the page. */
  onEvent: (listener: (event: CertdeskEvent) => void) => () => void
}

export interface RunningServer {
  url: string
  port: number
  /** Holds a file behind a one-time download link (the path the page follows); browser mode's "save". */
  offerDownload(fileName: string, extension: string, data: Buffer, onServed?: () => void): string
  close(): Promise<void>
}

/** Calls whose argument is a whole file the page read (a provisioning CSV): a larger body is allowed. */
const FILE_CALLS = new Set(['/api/call/previewProvisioning', '/api/call/provisionDevices'])
const MAX_FILE_BODY_BYTES = 40_000_000

function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'application/json; charset=utf-8',
  extra: Record<string, string> = {},
) {
  response.writeHead(status, {
    'Content-Type': type,
    'X-Content-Type-Options': 'nosniff',
    // The token rides in the page's first URL: never hand it to another site as a referrer.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...extra,
  })
  response.end(body)
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** HTTP status for the errors a request can cause; anything else is the server's fault (500). */
const STATUS_OF_CODE: Partial<Record<CertdeskErrorCode, number>> = { INVALID_INPUT: 400, NOT_FOUND: 404, CONFLICT: 409 }

/** A path with its percent-escapes decoded; a malformed escape (`/%`, `/%zz`) is the client's error. */
function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname)
  } catch (error) {
    throw new CertdeskError('INVALID_INPUT', 'The address is not valid: it has a malformed percent-escape.', { cause: error })
  }
}

async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > limit) throw new Error('too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * `attachment` (RFC 6266) with the name as ASCII for old clients and in full, in any script, as
 * RFC 5987 `filename*`, which browsers prefer: the name the save dialog of the desktop app offers.
 */
function contentDisposition(fileName: string, extension: string): string {
  const ascii = `${portableFileName(fileName, 'download')}${extension}`
  const full = `${savedFileName(fileName, 'download')}${extension}`
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(full).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`
}

/**
 * Browser mode: the built renderer and the same API over HTTP, on 127.0.0.1 only. The printed
 * URL signs one browser in (see BrowserSession); every API, event and download request needs
 * that session, and every request must name this server in its Host header (a DNS-rebinding
 * page cannot).
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  let port = options.port ?? 0
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  // Its port is set once known (cookies are named by port); no request arrives before that.
  const session = new BrowserSession()
  /**
   * API requests carry the session cookie and the session secret (a header; a query parameter
   * for the event stream, which EventSource cannot give headers). A download is a navigation, so
   * it carries only the cookie, and its one-time link is the rest.
   */
  const authorised = (request: IncomingMessage, url: URL) =>
    url.pathname.startsWith('/download/')
      ? session.hasSessionCookie(request.headers.cookie)
      : session.authorises({
          cookie: request.headers.cookie,
          authorization: request.headers.authorization,
          sessionSecret:
            url.pathname === '/api/events' ? (url.searchParams.get('session') ?? undefined) : headerValue(request.headers[SESSION_HEADER]),
        })
  const fromThisOrigin = (request: IncomingMessage) => {
    const origin = request.headers.origin
    return origin === undefined || allowedHosts().has(origin.replace(/^http:\/\//, ''))
  }

  /**
   * The built renderer's files. A path that names no file gets the page (/signed-in, say); one the
   * resolver refuses (traversal, hidden separators) gets 404.
   */
  const serveStatic = async (response: ServerResponse, pathname: string) => {
    // A malformed escape is the client's error (400), as in a download link; the resolver would only refuse it.
    decodePath(pathname)
    const file = resolveRendererFile(pathname, options.rendererDir)
    if (!file) return send(response, 404, '{"error":"Not found."}')
    const target = (await stat(file).catch(() => undefined))?.isFile() ? file : join(options.rendererDir, 'index.html')
    const headers = rendererFileHeaders(target)
    send(response, 200, await readFile(target), headers['Content-Type'], headers)
  }

  const download = (response: ServerResponse, fileName: string, extension: string, body: Buffer | string, type: string) =>
    send(response, 200, body, type, { 'Content-Disposition': contentDisposition(fileName, extension) })

  const serveDownload = async (response: ServerResponse, target: DownloadTarget) => {
    const workspace = options.workspace()
    if (target.kind === 'root') return download(response, 'root_ca', '.crt', await workspace.rootCertificatePem(), 'application/x-pem-file')
    if (target.kind === 'crl') return download(response, 'crl', '.pem', target.pem, 'application/x-pem-file')
    if (target.kind === 'file') {
      download(response, target.fileName, target.extension, target.data, 'application/octet-stream')
      // Sent means written to the socket's end: a browser that drops the connection first never gets here.
      response.once('finish', () => target.onServed?.())
      return
    }
    if (target.kind === 'export') {
      const exported = workspace.getCertificate(target.certificateId)
      await workspace.exportCertificate(exported.id, target.format, target.options, async (data) => {
        download(response, exported.name, EXPORT_FILE_EXTENSIONS[target.format], data, 'application/octet-stream')
        return true
      })
      return
    }
    const certificate = workspace.getCertificate(target.certificateId)
    await workspace.exportDeviceBundle(certificate.id, async (zip) => {
      download(response, certificate.name, '.zip', zip, 'application/zip')
      return true
    })
  }

  /**
   * An export's link: the request checked like the operation's arguments, and the export built
   * once and thrown away (nothing audited), so a refusal (a revoked certificate's key, a missing
   * passphrase) reaches the page as a sentence instead of a failed navigation.
   */
  const exportTarget = async (body: { certificateId?: unknown; format?: unknown; options?: unknown }): Promise<DownloadTarget> => {
    const parsed = ARGUMENTS.saveCertificateExport.safeParse([body.certificateId, body.format, body.options ?? {}])
    if (!parsed.success) throw invalidInput('Name an export: {"kind":"export","certificateId":…,"format":…,"options":{…}}.')
    const [certificateId, format, exportOptions] = parsed.data
    const workspace = options.workspace()
    const id = workspace.getCertificate(certificateId).id
    if (KEY_FORMATS.includes(format)) await workspace.exportCertificate(id, format, exportOptions, async () => false)
    return { kind: 'export', certificateId: id, format, options: exportOptions }
  }
  /** A CRL's link: made now, so a bad number of days is answered on the page. */
  const crlTarget = async (body: { days?: unknown }): Promise<DownloadTarget> => {
    const parsed = ARGUMENTS.saveCrl.safeParse([body.days])
    if (!parsed.success) throw invalidInput('Name a CRL: {"kind":"crl","days":…}.')
    return { kind: 'crl', pem: (await options.workspace().generateCrl({ days: parsed.data[0] })).pem }
  }

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    try {
      if (!allowedHosts().has(request.headers.host ?? '')) {
        return send(response, 421, JSON.stringify(failure('FORBIDDEN', 'This server answers only to 127.0.0.1 and localhost.')))
      }
      const url = new URL(request.url ?? '/', `http://${request.headers.host}`)
      const signInToken = url.searchParams.get('token')
      if (request.method === 'GET' && signInToken !== null) {
        const signedIn = session.signIn(signInToken)
        // The page takes the secret from the fragment (never sent to a server) and moves on to '/'.
        if (signedIn) return send(response, 303, '', 'text/plain', { Location: signedIn.location, 'Set-Cookie': signedIn.setCookie })
        // Already signed in on this browser: on to the page, and only to the page (a path the request
        // chose, `//evil.example`, would be another site). The secret is never handed out twice.
        if (session.hasSessionCookie(request.headers.cookie)) return send(response, 303, '', 'text/plain', { Location: '/' })
        return send(
          response,
          401,
          'This sign-in link has already been used (or is wrong). Open Certdesk in the browser that used it, or restart "certdesk serve" for a new link.',
          'text/plain; charset=utf-8',
        )
      }
      if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/download/')) {
        if (!authorised(request, url)) {
          return send(
            response,
            401,
            JSON.stringify(failure('NOT_SIGNED_IN', 'This browser is not signed in; open the URL that certdesk serve printed.')),
          )
        }
        // A page from another origin cannot call, session or not.
        if (request.method === 'POST' && !fromThisOrigin(request)) {
          return send(response, 403, JSON.stringify(failure('FORBIDDEN', 'Calls from other origins are refused.')))
        }
      }
      if (request.method === 'POST' && url.pathname === '/api/download-link') {
        let target: DownloadTarget
        try {
          const body = JSON.parse(await readBody(request)) as Record<string, unknown>
          if (body.kind === 'root') target = { kind: 'root' }
          else if (body.kind === 'bundle' && typeof body.certificateId === 'string')
            target = { kind: 'bundle', certificateId: options.workspace().getCertificate(body.certificateId).id }
          else if (body.kind === 'export') target = await exportTarget(body)
          else if (body.kind === 'crl') target = await crlTarget(body)
          else throw invalidInput('Name a download: {"kind":"root"} or {"kind":"bundle","certificateId":…}.')
        } catch (error) {
          if (isCertdeskError(error)) return send(response, 200, JSON.stringify(failureOf(error)))
          return send(response, 400, JSON.stringify(failure('MALFORMED_REQUEST', 'The request body was not valid JSON.')))
        }
        return send(response, 200, JSON.stringify({ ok: true, value: { url: session.createDownloadLink(target) } }))
      }
      if (request.method === 'POST' && url.pathname.startsWith('/api/call/')) {
        let args: unknown
        try {
          const limit = FILE_CALLS.has(url.pathname) ? MAX_FILE_BODY_BYTES : MAX_BODY_BYTES
          args = (JSON.parse(await readBody(request, limit)) as { args?: unknown }).args ?? []
        } catch {
          return send(response, 400, JSON.stringify(failure('MALFORMED_REQUEST', 'The request body was not valid JSON.')))
        }
        const result = await options.dispatch(url.pathname.slice('/api/call/'.length), args)
        return send(response, 200, JSON.stringify(result))
      }
      if (request.method === 'GET' && url.pathname === '/api/events') {
        response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
        response.write(': connected\n\n')
        const unsubscribe = options.onEvent((event) => response.write(`data: ${JSON.stringify(event)}\n\n`))
        const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000)
        request.on('close', () => {
          clearInterval(keepAlive)
          unsubscribe()
        })
        return
      }
      if (request.method === 'GET' && url.pathname.startsWith('/download/')) {
        const target = session.takeDownloadLink(decodePath(url.pathname.slice('/download/'.length)))
        if (!target)
          return send(
            response,
            410,
            JSON.stringify(failure('NOT_FOUND', 'This download link has been used or has expired; download again from the page.')),
          )
        return await serveDownload(response, target)
      }
      // Awaited inside the try: a rejection here must become an answer, never a crash.
      if (request.method === 'GET') return await serveStatic(response, url.pathname)
      return send(response, 405, JSON.stringify(failure('MALFORMED_REQUEST', 'Method not allowed.')))
    } catch (error) {
      const status = isCertdeskError(error) ? (STATUS_OF_CODE[error.code] ?? 500) : 500
      if (!response.headersSent) send(response, status, JSON.stringify(failureOf(error)))
      else response.end()
    }
  }
  // No request, however malformed, may end the process (and the broker with it).
  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy())
  })
  server.listen(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new CertdeskError(
          'IO',
          error.code === 'EADDRINUSE'
            ? `Port ${port} on 127.0.0.1 is already in use; choose another with --port, or leave it out for any free port.`
            : `Browser mode cannot listen on 127.0.0.1:${port} (${error.code ?? error.message}).`,
        ),
      ),
    )
  })
  port = (server.address() as { port: number }).port
  session.port = port
  return {
    url: `http://127.0.0.1:${port}/?token=${session.signInToken}`,
    port,
    offerDownload: (fileName, extension, data, onServed) =>
      session.createDownloadLink({ kind: 'file', fileName, extension, data, onServed }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
