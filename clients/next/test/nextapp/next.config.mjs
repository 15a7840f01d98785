import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))

/** @type {import('next').NextConfig} */
export default {
  // This folder is the project, not the repository around it.
  turbopack: { root: here },
  outputFileTracingRoot: here,
}
