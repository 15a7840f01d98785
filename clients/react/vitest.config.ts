import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.{ts,tsx}'],
    exclude: ['test/built/**', '**/node_modules/**'],
    globals: true,
    restoreMocks: true,
  },
})
