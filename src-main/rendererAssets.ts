import { extname, isAbsolute, relative, resolve, sep } from 'node:path'

/**
 * The policy sent with the built renderer's page, by the desktop app (app:// protocol) and by
 * browser mode alike. The page's own meta tag says the same; the header adds what a meta tag
 * cannot (frame-ancestors).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Content types of the files electron-vite writes to out/renderer. */
const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json',
}

/** Anything unlisted is opaque bytes (sent with nosniff, so never run as script or style). */
function mimeTypeOf(fileName: string): string {
  return MIME_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * The headers a file of the built renderer is sent with: its content type, nosniff, and on the
 * page (HTML) the CSP.
 */
export function rendererFileHeaders(file: string): Record<string, string> {
  const type = mimeTypeOf(file)
  const headers: Record<string, string> = { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff' }
  if (type.startsWith('text/html')) headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY
  return headers
}

/**
 * The file under `rendererDir` that a URL's path (as `URL.pathname` gives it, percent-escapes
 * still in) names, or undefined when the path is refused: an undecodable escape, or a segment
 * that is `.`/`..` or, once decoded, holds a separator (`%2f`, `\`, `%5c`), NUL, or `:` (a
 * Windows drive or stream). The root is index.html. Whether the file exists is the caller's
 * question.
 */
export function resolveRendererFile(pathname: string, rendererDir: string): string | undefined {
  const segments: string[] = []
  for (const raw of pathname.split('/').filter((segment) => segment !== '')) {
    let segment: string
    try {
      segment = decodeURIComponent(raw)
    } catch {
      return undefined
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment) || segment.includes(':')) return undefined
    segments.push(segment)
  }
  if (segments.length === 0) segments.push('index.html')
  const root = resolve(rendererDir)
  const file = resolve(root, ...segments)
  // Belt and braces: whatever the platform's path rules, the result stays inside the folder.
  const inside = relative(root, file)
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return undefined
  return file
}
