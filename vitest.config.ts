import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Tests run real key generation, openssl and CLI processes: generous, not tight.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Rebuilds a stale CLI build first: the tests run `certdesk` processes, as users do.
    globalSetup: ['tests/setup/freshCliBuild.ts'],
  },
})
