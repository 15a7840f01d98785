import { defineConfig } from 'vitest/config'

// Checks of the built package (run after `npm run build`).
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/built/**/*.test.ts'],
  },
})
