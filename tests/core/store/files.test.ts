import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeFailure, writeFileAtomic } from '../../../src-main/core/store/files'
import { temporaryFolder } from '../../helpers/tools'

describe('failed writes', () => {
  it('a full disk is one sentence that names the file (a real ENOSPC from /dev/full)', async () => {
    const error = await writeFile('/dev/full', 'x').then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC')
    const sentence = writeFailure(error, '/data/config.json')
    expect(sentence.code).toBe('IO')
    expect(sentence.message).toBe('The disk is full, so /data/config.json was not written; nothing was changed.')
    expect(sentence.cause).toBe(error)
  })

  it('leave no temporary file behind, and say why in one sentence', async () => {
    const folder = await temporaryFolder()
    const target = join(folder, 'occupied')
    await mkdir(target)
    await writeFile(join(target, 'inside'), 'x')
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(`${target} is a folder, not a file; nothing was changed.`)
    expect(await readdir(folder)).toEqual(['occupied'])
    await expect(writeFileAtomic(join(folder, 'missing', 'file'), 'data')).rejects.toThrow(
      `The folder ${join(folder, 'missing')} does not exist; nothing was changed.`,
    )
  })
})
