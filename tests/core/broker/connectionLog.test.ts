import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONNECTION_LOG_FILE, CONNECTION_LOG_LIMIT, ConnectionLog, readConnectionLog } from '../../../src-main/core/broker/connectionLog'
import { temporaryFolder } from '../../helpers/tools'

describe('connection log', () => {
  it('stays bounded in memory and on disk, keeps the newest, and survives a torn last line', async () => {
    const folder = await temporaryFolder()
    const log = await ConnectionLog.open(folder)
    const total = CONNECTION_LOG_LIMIT * 2 + 500
    for (let i = 0; i < total; i++) {
      log.record({
        time: new Date().toISOString(),
        listener: 'one-way',
        clientId: `client-${i}`,
        result: 'refused',
        reason: 'wrong device key',
      })
    }
    await log.flushed()
    expect(log.recent()).toHaveLength(CONNECTION_LOG_LIMIT)
    expect(log.recent().at(-1)?.clientId).toBe(`client-${total - 1}`)
    const lines = (await readFile(join(folder, CONNECTION_LOG_FILE), 'utf8')).trimEnd().split('\n')
    expect(lines.length).toBeLessThan(2 * CONNECTION_LOG_LIMIT)
    const onDisk = await readConnectionLog(folder)
    expect(onDisk).toHaveLength(CONNECTION_LOG_LIMIT)
    expect(onDisk.at(-1)?.clientId).toBe(`client-${total - 1}`)

    // A broker restarted on the folder carries on from the file.
    const reopened = await ConnectionLog.open(folder)
    expect(reopened.recent().at(0)?.clientId).toBe(`client-${total - CONNECTION_LOG_LIMIT}`)
    const { appendFile } = await import('node:fs/promises')
    await appendFile(join(folder, CONNECTION_LOG_FILE), '{"time": "2026-01-01T00:0')
    expect((await readConnectionLog(folder)).at(-1)?.clientId).toBe(`client-${total - 1}`)
  })
})
