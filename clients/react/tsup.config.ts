import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2020',
  external: ['react', 'swr'],
  // AuthProvider and the hooks use state and context: every entry is a
  // client module, so a Next.js App Router layout can render AuthProvider.
  banner: { js: "'use client';" },
})
