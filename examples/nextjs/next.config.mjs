/** @type {import('next').NextConfig} */
const nextConfig = {
  // The app is reached only through the gateway (http://127.0.0.1:8080).
  poweredByHeader: false,
}
export default nextConfig
