import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { constantTimeEqual } from '../core/store/vault'
import type { Workspace } from '../core/workspace'
import type { Dispatch } from '../contract/dispatch'
import type { CertdeskEvent } from '../contract/types'

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json',
}
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
const MAX_BODY_BYTES = 1_000_000

export interface ServeOptions {
  workspace: Workspace
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
  close(): Promise<void>
}

function send(response: ServerResponse, status: number, body: string | Buffer, type = 'application/json; charset=utf-8', extra: Record<string, string> = {}) {
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

async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new Error('too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Browser mode: the built renderer and the same API over HTTP, on 127.0.0.1 only. Every API,
 * event and download request must carry the random token from the printed URL, and every
 * request must name this server in its Host header (a DNS-rebinding page cannot).
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = randomBytes(24).toString('base64url')
  let port = options.port ?? 0
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])

  const authorised = (request: IncomingMessage, url: URL) => {
    const header = request.headers.authorization ?? ''
    const given = header.startsWith('Bearer ') ? header.slice(7) : (url.searchParams.get('token') ?? '')
    return constantTimeEqual(given, token)
  }

  const serveStatic = async (response: ServerResponse, pathname: string) => {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '')
    const file = join(options.rendererDir, relative || 'index.html')
    if (!file.startsWith(options.rendererDir + sep) && file !== options.rendererDir) return send(response, 404, '{"error":"Not found."}')
    const target = (await stat(file).catch(() => undefined))?.isFile() ? file : join(options.rendererDir, 'index.html')
    const extension = extname(target)
    const extra: Record<string, string> = extension === '.html' ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } : {}
    send(response, 200, await readFile(target), MIME[extension] ?? 'application/octet-stream', extra)
  }

  const download = async (response: ServerResponse, fileName: string, body: Buffer | string, type: string) =>
    send(response, 200, body, type, { 'Content-Disposition': `attachment; filename="${fileName.replace(/[^\w.-]+/g, '_')}"` })

  const server = createServer(async (request, response) => {
    try {
      if (!allowedHosts().has(request.headers.host ?? '')) {
        return send(response, 421, JSON.stringify({ ok: false, error: 'This server answers only to 127.0.0.1 and localhost.' }))
      }
      const url = new URL(request.url ?? '/', `http://${request.headers.host}`)
      if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/download/')) {
        if (!authorised(request, url)) {
          return send(response, 401, JSON.stringify({ ok: false, error: 'The access token is missing or wrong; open the URL that certdesk serve printed.' }))
        }
      }
      if (request.method === 'POST' && url.pathname.startsWith('/api/call/')) {
        // A page from another origin cannot make this call, token or not.
        const origin = request.headers.origin
        if (origin !== undefined && !allowedHosts().has(origin.replace(/^http:\/\//, ''))) {
          return send(response, 403, JSON.stringify({ ok: false, error: 'Calls from other origins are refused.' }))
        }
        let args: unknown
        try {
          args = (JSON.parse(await readBody(request)) as { args?: unknown }).args ?? []
        } catch {
          return send(response, 400, JSON.stringify({ ok: false, error: 'The request body was not valid JSON.' }))
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
      if (request.method === 'GET' && url.pathname.startsWith('/download/bundle/')) {
        const certificate = options.workspace.getCertificate(decodeURIComponent(url.pathname.slice('/download/bundle/'.length)))
        return download(response, `${certificate.name}.zip`, await options.workspace.exportDeviceBundle(certificate.id), 'application/zip')
      }
      if (request.method === 'GET' && url.pathname === '/download/root') {
        return download(response, 'root_ca.crt', await options.workspace.rootCertificatePem(), 'application/x-pem-file')
      }
      if (request.method === 'GET') return serveStatic(response, url.pathname)
      return send(response, 405, JSON.stringify({ ok: false, error: 'Method not allowed.' }))
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (!response.headersSent) send(response, 500, JSON.stringify({ ok: false, error: message }))
      else response.end()
    }
  })
  server.listen(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
