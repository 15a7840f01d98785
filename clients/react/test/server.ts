// A real loopback HTTP server standing in for the gateway, and a fetch that
// resolves the package's relative URLs ("/api/auth/me") against it.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Recorded {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Reply {
  status?: number
  json?: unknown
  body?: string
  headers?: Record<string, string>
}

export type Routes = Record<string, (req: Recorded, n: number) => Reply | Promise<Reply>>

export interface FakeGateway {
  url: string
  requests: Recorded[]
  /** The requests to one "METHOD /path". */
  calls: (route: string) => Recorded[]
  routes: Routes
  close: () => Promise<void>
}

/** startGateway serves routes keyed "METHOD /path"; others get 404. */
export async function startGateway(routes: Routes): Promise<FakeGateway> {
  const requests: Recorded[] = []
  const gw = { routes } as FakeGateway
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const rec: Recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(rec)
      const key = `${rec.method} ${rec.path}`
      const n = requests.filter((r) => `${r.method} ${r.path}` === key).length
      const handler = gw.routes[key]
      const reply: Reply = handler ? await handler(rec, n) : { status: 404, json: { success: false, message: 'Not found.' } }
      const headers: Record<string, string> = { ...reply.headers }
      let body = reply.body ?? ''
      if (reply.json !== undefined) {
        headers['content-type'] = 'application/json'
        body = JSON.stringify(reply.json)
      }
      res.writeHead(reply.status ?? 200, headers)
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  gw.url = `http://127.0.0.1:${port}`
  gw.requests = requests
  gw.calls = (route) => requests.filter((r) => `${r.method} ${r.path}` === route)
  gw.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return gw
}

const realFetch = globalThis.fetch

/** routeFetchTo makes relative URLs reach base; the result undoes it. */
export function routeFetchTo(base: string): () => void {
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    realFetch(typeof input === 'string' || input instanceof URL ? new URL(String(input), base) : input, init)) as typeof fetch
  return () => {
    globalThis.fetch = realFetch
  }
}

/** clearCookies removes every cookie jsdom holds for the page. */
export function clearCookies() {
  for (const part of document.cookie.split(';')) {
    const name = part.split('=')[0]?.trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}

export const alice = { id: 1, username: 'alice', name: 'Alice', email: 'alice@example.com', roles: ['user'], type: 'user' }
export const guest = { id: 'guest-1', name: 'Guest', roles: [], type: 'guest' }
