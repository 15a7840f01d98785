import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // next/headers is loaded on demand, only in the App Router.
  external: ['next', 'next/headers', 'jose'],
})
