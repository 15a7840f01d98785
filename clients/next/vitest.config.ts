import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // The App Router's next/headers, played by a stub the tests drive.
    alias: { 'next/headers': fileURLToPath(new URL('./test/next-headers.ts', import.meta.url)) },
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // test:dist and test:nextapp run these after the build.
    exclude: ['test/built/**', 'test/nextapp/**', 'test/nextapp.test.ts', '**/node_modules/**'],
    globalSetup: ['test/gateway.setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
    restoreMocks: true,
  },
})
