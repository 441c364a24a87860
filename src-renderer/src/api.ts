// The renderer's one door to Certdesk. It picks the transport — Electron's preload bridge, or
// loopback HTTP in browser mode — and no view knows which one is in use.
import type { CertdeskApi, CertdeskEvent, Envelope, OperationName } from '../../src-main/contract/types'
import { OPERATIONS } from '../../src-main/contract/types'

type Bridge = { [K in OperationName]: (...args: unknown[]) => Promise<Envelope> } & {
  onEvent(listener: (event: CertdeskEvent) => void): () => void
}

declare global {
  interface Window {
    certdesk?: Bridge
  }
}

/** Browser mode: the token arrives in the page's first URL; keep it for this tab, then hide it. */
function sessionToken(): string {
  const fromUrl = new URLSearchParams(window.location.search).get('token')
  if (fromUrl) {
    sessionStorage.setItem('certdesk-token', fromUrl)
    window.history.replaceState(null, '', window.location.pathname + window.location.hash)
    return fromUrl
  }
  return sessionStorage.getItem('certdesk-token') ?? ''
}

function unwrap<T>(envelope: Envelope): T {
  if (!envelope.ok) throw new Error(envelope.error)
  return envelope.value as T
}

const bridge = window.certdesk
const token = bridge ? '' : sessionToken()

async function callOverHttp(operation: string, args: unknown[]): Promise<Envelope> {
  let response: Response
  try {
    response = await fetch(`/api/call/${operation}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ args }),
    })
  } catch {
    return { ok: false, error: 'Certdesk is not answering; is "certdesk serve" still running?' }
  }
  return (await response.json()) as Envelope
}

/** Browser mode saves through the browser's own download, straight from the server to disk. */
function download(path: string): Promise<{ saved: boolean }> {
  const link = document.createElement('a')
  link.href = `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`
  link.download = ''
  document.body.appendChild(link)
  link.click()
  link.remove()
  return Promise.resolve({ saved: true })
}

function buildApi(): CertdeskApi {
  const entries = OPERATIONS.map((operation) => [
    operation,
    async (...args: unknown[]) => unwrap(bridge ? await bridge[operation](...args) : await callOverHttp(operation, args)),
  ])
  const api = Object.fromEntries(entries) as CertdeskApi
  if (!bridge) {
    api.saveDeviceBundle = (certificateId) => download(`/download/bundle/${encodeURIComponent(certificateId)}`)
    api.saveRootCertificate = () => download('/download/root')
  }
  return api
}

export const api: CertdeskApi = buildApi()

/** Main-side events: IPC in Electron, server-sent events in the browser. */
export function onEvent(listener: (event: CertdeskEvent) => void): () => void {
  if (bridge) return bridge.onEvent(listener)
  const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`)
  source.onmessage = (message) => listener(JSON.parse(message.data as string) as CertdeskEvent)
  return () => source.close()
}

export const transport: 'electron' | 'browser' = bridge ? 'electron' : 'browser'
