import { defineConfig } from 'vitest/config'

// The browser end-to-end tests: one real Chromium against `apilayer demo`.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
})
