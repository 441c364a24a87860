import { randomBytes } from 'node:crypto'
import { constantTimeEqual } from '../core/store/vault'

/** How long a download link lives; it is used once, right after the page asks for it. */
const DOWNLOAD_LINK_TTL_MS = 60_000
const MAX_PENDING_DOWNLOADS = 100

export type DownloadTarget = { kind: 'bundle'; certificateId: string } | { kind: 'root' }

/**
 * Who may use browser mode. The printed URL carries a sign-in token that works once: the first
 * page load trades it for an HttpOnly, SameSite=Strict session cookie, so the token left in the
 * browser's history opens nothing. Downloads go through one-time links for the same reason.
 * Until a browser signs in, a script may use the token as a Bearer header.
 */
export class BrowserSession {
  readonly signInToken = randomBytes(24).toString('base64url')
  private signedIn = false
  private readonly sessionId = randomBytes(32).toString('base64url')
  private readonly downloads = new Map<string, { target: DownloadTarget; expires: number }>()

  /** Set once the server listens. Cookies are shared by every port of a host: the port in the name keeps two servers apart. */
  port = 0

  get cookieName(): string {
    return `certdesk_session_${this.port}`
  }

  /** The Set-Cookie header for a successful sign-in, or undefined for a wrong or spent token. */
  signIn(token: string): string | undefined {
    if (this.signedIn || !constantTimeEqual(token, this.signInToken)) return undefined
    this.signedIn = true
    return `${this.cookieName}=${this.sessionId}; HttpOnly; SameSite=Strict; Path=/`
  }

  /** A request is authorised by the session cookie, or (before any sign-in) by the token as Bearer. */
  authorises(cookieHeader: string | undefined, authorization: string | undefined): boolean {
    const cookie = (cookieHeader ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .find(([name]) => name === this.cookieName)?.[1]
    if (cookie !== undefined && this.signedIn) return constantTimeEqual(cookie, this.sessionId)
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined
    return bearer !== undefined && !this.signedIn && constantTimeEqual(bearer, this.signInToken)
  }

  createDownloadLink(target: DownloadTarget): string {
    const now = Date.now()
    for (const [id, pending] of this.downloads) if (pending.expires < now) this.downloads.delete(id)
    if (this.downloads.size >= MAX_PENDING_DOWNLOADS) this.downloads.delete(this.downloads.keys().next().value as string)
    const id = randomBytes(24).toString('base64url')
    this.downloads.set(id, { target, expires: now + DOWNLOAD_LINK_TTL_MS })
    return `/download/${id}`
  }

  /** The link's target, once; afterwards (or after a minute) the link is dead. */
  takeDownloadLink(id: string): DownloadTarget | undefined {
    const pending = this.downloads.get(id)
    this.downloads.delete(id)
    return pending && pending.expires >= Date.now() ? pending.target : undefined
  }
}
