import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createDispatcher, implementApi } from '../../src-main/contract/dispatch'
import { type CertdeskApi, type Envelope, IPC_CHANNEL_PREFIX, OPERATIONS } from '../../src-main/contract/types'
import { type InvokeEventLike, registerIpcHandlers, trustedSender } from '../../src-main/ipc/registerIpc'
import { APP_ENTRY_URL, rendererDevServerUrl } from '../../src-main/electron/windowSecurity'
import { Workspace } from '../../src-main/core/workspace'
import { temporaryFolder } from '../helpers/tools'
import { headlessFrontDoor } from '../helpers/frontDoor'
import { registryContents } from '../helpers/registryContents'

type Handler = (event: InvokeEventLike, ...args: unknown[]) => Promise<Envelope>

const DEV_SERVER = 'http://localhost:5173'
const fromApp: InvokeEventLike = { senderFrame: { url: `${APP_ENTRY_URL}#/devices`, parent: null } }
const fromElsewhere: InvokeEventLike = { senderFrame: { url: 'https://evil.example/' } }

let workspace: Workspace
let handlers: Map<string, Handler>
/** Operations that actually reached the API, to prove refused calls never did. */
let reached: string[]

beforeAll(async () => {
  workspace = await Workspace.initialise(join(await temporaryFolder(), 'data'), { keyType: 'ec-p256' })
  const real = implementApi(workspace, headlessFrontDoor())
  reached = []
  const recording = Object.fromEntries(
    Object.entries(real).map(([name, run]) => [
      name,
      (...args: unknown[]) => (reached.push(name), (run as (...a: unknown[]) => unknown)(...args)),
    ]),
  ) as unknown as CertdeskApi
  handlers = new Map()
  registerIpcHandlers(
    { handle: (channel, listener) => handlers.set(channel, listener) },
    createDispatcher(recording),
    trustedSender(DEV_SERVER),
  )
})

const invoke = (operation: string, event: InvokeEventLike, ...args: unknown[]) => {
  const handler = handlers.get(`${IPC_CHANNEL_PREFIX}${operation}`)
  if (!handler) throw new Error(`no handler for ${operation}`)
  return handler(event, ...args)
}

describe('IPC handlers', () => {
  it('registers exactly one channel per operation of the contract', () => {
    expect([...handlers.keys()].sort()).toEqual(OPERATIONS.map((operation) => `${IPC_CHANNEL_PREFIX}${operation}`).sort())
  })

  it('answers the app page, and refuses any other sender before the core is reached', async () => {
    const device = await invoke('createDevice', fromApp, { name: 'Pump', authType: 'token' })
    expect(device).toMatchObject({ ok: true, value: { name: 'Pump', authType: 'token' } })
    reached = []
    const refused: InvokeEventLike[] = [
      fromElsewhere,
      { senderFrame: null },
      // The old file:// page, another app:// host, user-info, and an iframe of the app itself.
      { senderFrame: { url: 'file:///opt/Certdesk/resources/app/out/renderer/index.html' } },
      { senderFrame: { url: 'app://evil/index.html' } },
      { senderFrame: { url: 'app://certdesk@evil/index.html' } },
      { senderFrame: { url: APP_ENTRY_URL, parent: { url: APP_ENTRY_URL } } },
      { senderFrame: { url: 'http://localhost:5174/' } },
    ]
    for (const event of refused) {
      expect(await invoke('listDevices', event)).toEqual({
        ok: false,
        error: 'This page is not allowed to use Certdesk.',
        code: 'FORBIDDEN',
      })
    }
    expect(reached).toEqual([])
    // The development server (electron-vite dev) is trusted by origin.
    expect(await invoke('listDevices', { senderFrame: { url: `${DEV_SERVER}/#/devices` } })).toMatchObject({ ok: true })
  })

  it('trusts the dev server only in an unpackaged app (ELECTRON_RENDERER_URL ignored once packaged)', () => {
    const env = { ELECTRON_RENDERER_URL: DEV_SERVER }
    const devPage = { senderFrame: { url: `${DEV_SERVER}/` } }
    expect(trustedSender(rendererDevServerUrl(false, env))(devPage)).toBe(true)
    expect(trustedSender(rendererDevServerUrl(true, env))(devPage)).toBe(false)
    expect(trustedSender(rendererDevServerUrl(true, env))(fromApp)).toBe(true)
  })

  it('refuses malformed arguments before the core sees them, in one sentence', async () => {
    reached = []
    const before = registryContents(workspace.snapshot())
    const cases: [string, unknown[], RegExp][] = [
      ['createDevice', [{ name: 'x', authType: 'password' }], /createDevice was malformed \(at 0\.authType\)/],
      ['createDevice', [{ name: 'x', authType: 'token', isAdmin: true }], /createDevice was malformed/],
      ['issueDeviceCertificate', [{ name: 'x', days: 'ten' }], /issueDeviceCertificate was malformed \(at 0\.days\)/],
      ['issueDeviceCertificate', [{ name: 'x', keyType: 'dsa' }], /at 0\.keyType/],
      ['bindDevices', ['crt_x', []], /bindDevices was malformed \(at 1\)/],
      ['getCertificate', [42], /getCertificate was malformed \(at 0\)/],
      ['listDevices', ['unexpected'], /listDevices was malformed/],
      ['updateCertificate', ['crt_x', { enabled: 'yes' }], /at 1\.enabled/],
    ]
    for (const [operation, args, message] of cases) {
      const answer = await invoke(operation, fromApp, ...args)
      expect(answer.ok, operation).toBe(false)
      expect(answer.ok ? '' : answer.error).toMatch(message)
    }
    expect(reached).toEqual([])
    expect(registryContents(workspace.snapshot())).toBe(before)
  })

  it("passes the core's refusals through as the core's sentence, with its key and values", async () => {
    const answer = await invoke('bindDevices', fromApp, 'crt_missing', ['nobody-here'])
    expect(answer).toEqual({
      ok: false,
      error: 'There is no certificate "crt_missing".',
      code: 'NOT_FOUND',
      messageKey: 'certificate.notFound',
      params: { reference: 'crt_missing' },
    })
  })
})
