import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { FuseV1Options, FuseVersion } from '@electron/fuses'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../helpers/tools'

describe('Electron fuses (scripts/flip-fuses.mjs)', () => {
  it('sets every fuse as the checklist wants it', async () => {
    const script = pathToFileURL(join(PROJECT_ROOT, 'scripts/flip-fuses.mjs')).href
    const { FUSE_CONFIG } = (await import(script)) as { FUSE_CONFIG: Record<string, unknown> }
    expect(FUSE_CONFIG).toEqual({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    })
    // Every fuse this @electron/fuses knows is decided, none left to Electron's default.
    const known = Object.values(FuseV1Options).filter((value) => typeof value === 'number')
    expect(known.every((fuse) => typeof FUSE_CONFIG[fuse] === 'boolean')).toBe(true)
  })

  it('is a packaging script', async () => {
    const { readFile } = await import('node:fs/promises')
    const manifest = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
      devDependencies: Record<string, string>
    }
    expect(manifest.scripts['package:fuses']).toBe('node scripts/flip-fuses.mjs')
    expect(manifest.devDependencies['@electron/fuses']).toBeDefined()
  })
})
