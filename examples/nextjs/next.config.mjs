import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))

/** @type {import('next').NextConfig} */
const nextConfig = {
  // The app is reached only through the gateway (http://127.0.0.1:8080).
  poweredByHeader: false,
  // This folder is the project, not the repository around it.
  turbopack: { root: here },
  outputFileTracingRoot: here,
}
export default nextConfig
