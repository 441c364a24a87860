// Browser mode's sign-in lands on /signed-in#<secret> (see src-main/serve/session.ts). Imported
// first by main.ts, so the secret is put away and the address cleaned before the router reads it.
// The secret is kept per origin (the port is part of it): another server on 127.0.0.1 can never
// read it, though the browser sends it the session cookie.

const STORAGE_KEY = `certdesk-session-${window.location.port}`

if (window.location.pathname === '/signed-in') {
  const secret = window.location.hash.slice(1)
  if (secret) window.localStorage.setItem(STORAGE_KEY, secret)
  window.history.replaceState(null, '', '/')
}

/** The session secret browser mode's API calls carry with the cookie; empty in the desktop app. */
export function sessionSecret(): string {
  return window.localStorage.getItem(STORAGE_KEY) ?? ''
}
