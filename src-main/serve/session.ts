import { randomBytes } from 'node:crypto'
import { constantTimeEqual } from '../core/crypto'
import type { CertificateExportOptions, ExportFormat } from '../core/bundles/certificateExports'

/** How long a download link lives; it is used once, right after the page asks for it. */
const DOWNLOAD_LINK_TTL_MS = 60_000
const MAX_PENDING_DOWNLOADS = 100
/** Where the sign-in lands; the page takes the session secret from the fragment and moves on. */
const SIGNED_IN_PATH = '/signed-in'
/** The header (and, for the event stream, the query parameter) that carries the session secret. */
export const SESSION_HEADER = 'x-certdesk-session'

export type DownloadTarget =
  | { kind: 'bundle'; certificateId: string }
  | { kind: 'root' }
  /** One format of one certificate; a passphrase waits here, in memory, until the link is used (or dies). */
  | { kind: 'export'; certificateId: string; format: ExportFormat; options: CertificateExportOptions }
  /** A CRL made when the link was asked for (it uses up a CRL number then). */
  | { kind: 'crl'; pem: string }
  /**
   * A file an operation made (a provisioning run's result zip), held in memory until the link is
   * used; `onServed` once the browser has been sent all of it.
   */
  | { kind: 'file'; fileName: string; extension: string; data: Buffer; onServed?: () => void }

/** What a request shows: its cookies, its Authorization header, its session secret. */
interface Credentials {
  cookie?: string
  authorization?: string
  sessionSecret?: string
}

/**
 * Who may use browser mode. The printed URL carries a sign-in token that works once: the first
 * page load trades it for two things that must travel together — an HttpOnly, SameSite=Strict
 * session cookie, and a session secret the page keeps in its own storage and sends as a header.
 * The token left in the browser's history then opens nothing; a cookie the browser also sends to
 * another server on 127.0.0.1 (cookies ignore ports) opens nothing without the secret; and the
 * secret, which may linger in history as the sign-in page's fragment, opens nothing without the
 * cookie. Downloads go through one-time links. Until a browser signs in, a script may use the
 * token as a Bearer header.
 */
export class BrowserSession {
  readonly signInToken = randomBytes(24).toString('base64url')
  private signedIn = false
  private readonly sessionId = randomBytes(32).toString('base64url')
  private readonly secret = randomBytes(32).toString('base64url')
  private readonly downloads = new Map<string, { target: DownloadTarget; expires: number }>()
  /** Set once the server listens; in the cookie's name, so two servers' cookies never clash. */
  port = 0

  get cookieName(): string {
    return `certdesk_session_${this.port}`
  }

  /** The redirect that completes a sign-in, or undefined for a wrong or spent token. */
  signIn(token: string): { setCookie: string; location: string } | undefined {
    if (this.signedIn || !constantTimeEqual(token, this.signInToken)) return undefined
    this.signedIn = true
    return {
      setCookie: `${this.cookieName}=${this.sessionId}; HttpOnly; SameSite=Strict; Path=/`,
      location: `${SIGNED_IN_PATH}#${this.secret}`,
    }
  }

  /** The browser that signed in: its session cookie (the page's own navigations carry only this). */
  hasSessionCookie(cookieHeader: string | undefined): boolean {
    const cookie = (cookieHeader ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .find(([name]) => name === this.cookieName)?.[1]
    return this.signedIn && cookie !== undefined && constantTimeEqual(cookie, this.sessionId)
  }

  /** An API request: the cookie and the secret together, or (before any sign-in) the token as Bearer. */
  authorises(credentials: Credentials): boolean {
    if (this.signedIn) {
      return this.hasSessionCookie(credentials.cookie) && constantTimeEqual(credentials.sessionSecret ?? '', this.secret)
    }
    const bearer = credentials.authorization?.startsWith('Bearer ') ? credentials.authorization.slice(7) : undefined
    return bearer !== undefined && constantTimeEqual(bearer, this.signInToken)
  }

  createDownloadLink(target: DownloadTarget): string {
    const now = Date.now()
    for (const [id, pending] of this.downloads) if (pending.expires < now) this.downloads.delete(id)
    if (this.downloads.size >= MAX_PENDING_DOWNLOADS) this.downloads.delete(this.downloads.keys().next().value as string)
    const id = randomBytes(24).toString('base64url')
    this.downloads.set(id, { target, expires: now + DOWNLOAD_LINK_TTL_MS })
    // A target may hold private keys (a bundle, a provisioning run's zip): gone from memory when
    // the link dies, not when some later link happens to sweep it.
    setTimeout(() => this.downloads.delete(id), DOWNLOAD_LINK_TTL_MS).unref()
    return `/download/${id}`
  }

  /** The link's target, once; afterwards (or after a minute) the link is dead. */
  takeDownloadLink(id: string): DownloadTarget | undefined {
    const pending = this.downloads.get(id)
    this.downloads.delete(id)
    return pending && pending.expires >= Date.now() ? pending.target : undefined
  }
}
