import { relative, resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'
import { type Plugin, normalizePath } from 'vite'

const CLI_ENTRY = resolve('src-main/cli/index.ts')

/**
 * Writes out/main/cli.stamp.json beside the built CLI: when the build started, and every project
 * source file the CLI is built from. bin/certdesk.mjs runs the built CLI only while none of those
 * files is newer than the build; otherwise it runs the source through tsx and says why.
 */
function cliStamp(): Plugin {
  let startedAt = 0
  return {
    name: 'certdesk-cli-stamp',
    buildStart() {
      startedAt = Date.now()
    },
    generateBundle() {
      // Rollup's ids use forward slashes on every system (C:/… on Windows): compare like with like.
      const root = normalizePath(resolve('.'))
      const sources = new Set<string>()
      const pending = [normalizePath(CLI_ENTRY)]
      for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
        if (sources.has(id)) continue
        sources.add(id)
        const info = this.getModuleInfo(id)
        for (const next of [...(info?.importedIds ?? []), ...(info?.dynamicallyImportedIds ?? [])]) {
          if (next.startsWith(root) && !next.includes('/node_modules/') && !sources.has(next)) pending.push(next)
        }
      }
      // The build's own configuration too: a change there makes a different CLI from the same sources.
      const configuration = ['electron.vite.config.ts', 'package.json', 'tsconfig.json', 'tsconfig.node.json']
      const built = [...sources].map((id) => normalizePath(relative(root, id)))
      const stamp = { builtAt: startedAt, sources: [...built, ...configuration].sort() }
      this.emitFile({ type: 'asset', fileName: 'cli.stamp.json', source: `${JSON.stringify(stamp, null, 2)}\n` })
    },
  }
}

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve('src-main/index.ts'),
          brokerProcess: resolve('src-main/brokerProcess.ts'),
          // The command line, run by bin/certdesk.mjs: plain Node, no Electron in its imports.
          cli: CLI_ENTRY,
        },
      },
    },
    plugins: [cliStamp()],
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve('src-main/preload/index.ts') },
        // A sandboxed preload cannot be an ES module.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    build: {
      rollupOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
    plugins: [vue()],
  },
})
