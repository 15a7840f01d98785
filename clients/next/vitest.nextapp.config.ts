import { defineConfig } from 'vitest/config'

// next build + next start of test/nextapp with the packed packages (run
// after `npm run build` here and in clients/react, and `npm ci` in
// test/nextapp).
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/nextapp.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 300_000,
  },
})
