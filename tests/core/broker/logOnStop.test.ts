import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../../src-main/core/broker/broker'
import { CONNECTION_LOG_FILE, readConnectionLog } from '../../../src-main/core/broker/connectionLog'
import { connect, makeFleet } from '../../helpers/fleet'
import { freePort, stopChild } from '../../helpers/processes'
import { PROJECT_ROOT } from '../../helpers/tools'

/** Connects with a wrong device key; resolves once the broker has refused it. */
async function refusedAttempt(port: number, clientId: string, ca: string): Promise<void> {
  await expect(
    connect(port, { clientId, username: clientId, password: 'not-the-device-key', ca, rejectUnauthorized: false }),
  ).rejects.toThrow()
}

const loggedClientIds = async (dataDir: string) => (await readConnectionLog(dataDir)).map((entry) => entry.clientId)

// The log is written in ~25 ms batches: stopping the broker must write the batch still waiting.
describe('the connection log when the broker stops', () => {
  it('keeps an attempt made just before close()', async () => {
    const fleet = await makeFleet()
    const broker = await startBroker(fleet.workspace, { oneWayPort: 0, mutualPort: 0 })
    await refusedAttempt(broker.oneWay.port, 'just-before-close', fleet.rootPem)
    await broker.close()
    expect(await loggedClientIds(fleet.workspace.dataDir)).toContain('just-before-close')
  })

  it('keeps an attempt made just before `certdesk broker run` gets SIGTERM', async () => {
    const fleet = await makeFleet()
    const dataDir = fleet.workspace.dataDir
    const [oneWayPort, mutualPort] = [await freePort(), await freePort()]
    const child = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, 'bin/certdesk.mjs'),
        '--data',
        dataDir,
        'broker',
        'run',
        '--json',
        '--one-way-port',
        String(oneWayPort),
        '--mutual-port',
        String(mutualPort),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CERTDESK_HOME: '' } },
    )
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve())
        child.once('exit', (code) => reject(new Error(`certdesk broker run exited (${code})`)))
      })
      await refusedAttempt(oneWayPort, 'just-before-sigterm', fleet.rootPem)
    } finally {
      await stopChild(child)
    }
    expect(child.exitCode).toBe(0)
    expect(await readFile(join(dataDir, CONNECTION_LOG_FILE), 'utf8')).toContain('"clientId":"just-before-sigterm"')
  })
})
