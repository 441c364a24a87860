// The renderer's one door to Certdesk. It picks the transport — Electron's preload bridge, or
// loopback HTTP in browser mode — and no view knows which one is in use.
import type {
  CertdeskApi,
  CertdeskEvent,
  CertificateExportOptions,
  Envelope,
  ExportFormat,
  OperationName,
  SaveResult,
} from '../../src-main/contract/types'
import { OPERATIONS, failure } from '../../src-main/contract/types'
import { ApiError } from './apiError'
import { sessionSecret } from './signIn'

type Bridge = { [K in OperationName]: (...args: unknown[]) => Promise<Envelope> } & {
  onEvent(listener: (event: CertdeskEvent) => void): () => void
}

declare global {
  interface Window {
    certdesk?: Bridge
  }
}

function unwrap<T>(envelope: Envelope): T {
  if (!envelope.ok) throw new ApiError(envelope)
  return envelope.value as T
}

const bridge = window.certdesk

// Browser mode: opening the printed URL signed this browser in with an HttpOnly session cookie
// (same-origin requests carry it) and a session secret (signIn.ts), which every call adds.
async function postOverHttp(path: string, body: unknown): Promise<Envelope> {
  let response: Response
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Certdesk-Session': sessionSecret() },
      body: JSON.stringify(body),
    })
  } catch {
    return failure('UNREACHABLE', 'Certdesk is not answering; is "certdesk serve" still running?')
  }
  return (await response.json()) as Envelope
}

const callOverHttp = (operation: string, args: unknown[]) => postOverHttp(`/api/call/${operation}`, { args })

/**
 * Browser mode saves through the browser's own download, straight from the server to disk,
 * through a link that works once (so the browser's history holds only dead links).
 */
type DownloadRequest =
  | { kind: 'bundle'; certificateId: string }
  | { kind: 'root' }
  | { kind: 'export'; certificateId: string; format: ExportFormat; options: CertificateExportOptions }
  | { kind: 'crl'; days: number }

async function download(target: DownloadRequest): Promise<{ saved: boolean }> {
  const { url } = unwrap<{ url: string }>(await postOverHttp('/api/download-link', target))
  return follow(url)
}

/** Starts the browser's download of a one-time link. */
function follow(url: string): { saved: boolean } {
  clickDownload(url, '')
  return { saved: true }
}

/** The browser's own download of `href`; an empty name lets the server's Content-Disposition name it. */
function clickDownload(href: string, fileName: string): void {
  const link = document.createElement('a')
  link.href = href
  link.download = fileName
  document.body.appendChild(link)
  link.click()
  link.remove()
}

/** How long the fetched zip stays behind its object URL: the browser's download has read it by then. */
const FETCHED_DOWNLOAD_TTL_MS = 60_000

/**
 * A provisioning run's zip: the page fetches the one-time link itself and hands the bytes to the
 * browser's download, so "saved" means the file reached the browser, not only that a link was made
 * (a followed link cannot tell the page whether it was fetched).
 */
async function fetchDownload(url: string): Promise<boolean> {
  try {
    const response = await fetch(url)
    if (!response.ok) return false
    // The server names the file (provisioning-<date>.zip, ASCII); a blob URL has no name of its own.
    const fileName = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? ''
    const objectUrl = URL.createObjectURL(await response.blob())
    clickDownload(objectUrl, fileName)
    setTimeout(() => URL.revokeObjectURL(objectUrl), FETCHED_DOWNLOAD_TTL_MS)
    return true
  } catch {
    return false
  }
}

/** A save that browser mode answers with a one-time link: saved once the page has fetched it. */
async function savedThroughLink(operation: 'saveProvisioningResult' | 'saveBrokerExport', args: unknown[]): Promise<SaveResult> {
  const saved = unwrap<SaveResult>(await callOverHttp(operation, args))
  if (!saved.location?.startsWith('/download/')) return saved
  return { ...saved, saved: await fetchDownload(saved.location) }
}

function buildApi(): CertdeskApi {
  const entries = OPERATIONS.map((operation) => [
    operation,
    async (...args: unknown[]) => unwrap(bridge ? await bridge[operation](...args) : await callOverHttp(operation, args)),
  ])
  const api = Object.fromEntries(entries) as CertdeskApi
  if (!bridge) {
    api.saveDeviceBundle = (certificateId) => download({ kind: 'bundle', certificateId })
    api.saveRootCertificate = () => download({ kind: 'root' })
    api.saveCertificateExport = (certificateId, format, options) => download({ kind: 'export', certificateId, format, options })
    api.saveCrl = (days) => download({ kind: 'crl', days })
    // The run's result zip waits behind a one-time link (`location`): the page fetches it (fetchDownload).
    api.provisionDevices = async (csvText, options) => {
      const outcome = unwrap<Awaited<ReturnType<CertdeskApi['provisionDevices']>>>(
        await callOverHttp('provisionDevices', [csvText, options]),
      )
      if (!outcome.location?.startsWith('/download/')) return outcome
      return { ...outcome, saved: await fetchDownload(outcome.location) }
    }
    api.saveProvisioningResult = () => savedThroughLink('saveProvisioningResult', [])
    api.saveBrokerExport = (target, options) => savedThroughLink('saveBrokerExport', [target, options])
  }
  return api
}

export const api: CertdeskApi = buildApi()

const listeners = new Set<(event: CertdeskEvent) => void>()
let source: EventSource | undefined

/**
 * Main-side events: IPC in Electron, server-sent events in the browser. One EventSource serves
 * every listener (each parses nothing): a browser allows six connections per host, and a page
 * that opened one stream per listener would starve its own calls.
 */
export function onEvent(listener: (event: CertdeskEvent) => void): () => void {
  if (bridge) return bridge.onEvent(listener)
  listeners.add(listener)
  if (!source) {
    // EventSource cannot send headers: the secret rides in the query (same origin, never in history).
    source = new EventSource(`/api/events?session=${encodeURIComponent(sessionSecret())}`)
    source.onmessage = (message) => {
      const event = JSON.parse(message.data as string) as CertdeskEvent
      for (const each of [...listeners]) each(event)
    }
  }
  return () => {
    listeners.delete(listener)
    if (listeners.size === 0) {
      source?.close()
      source = undefined
    }
  }
}
