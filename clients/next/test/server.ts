// A real loopback HTTP server standing in for the backend (or a JWKS
// endpoint): routes keyed "METHOD /path", every request recorded.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Recorded {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** Set when the client went away before the answer was sent. */
  aborted: boolean
}

export interface Reply {
  status?: number
  json?: unknown
  body?: string
  headers?: Record<string, string>
  /** Close the connection without answering. */
  destroy?: boolean
}

export type Handler = (req: Recorded, n: number) => Reply | Promise<Reply>
export type Routes = Record<string, Handler>

export interface Backend {
  url: string
  requests: Recorded[]
  /** The requests to one "METHOD /path" (path without the query). */
  calls: (route: string) => Recorded[]
  routes: Routes
  close: () => Promise<void>
}

/** startBackend serves routes keyed "METHOD /path" (query ignored); others get 404. */
export async function startBackend(routes: Routes = {}): Promise<Backend> {
  const requests: Recorded[] = []
  const b = { routes } as Backend
  const keyOf = (r: Recorded) => `${r.method} ${r.path.split('?')[0]}`
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const rec: Recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        aborted: false,
      }
      res.on('close', () => {
        if (!res.writableFinished) rec.aborted = true
      })
      requests.push(rec)
      const key = keyOf(rec)
      const n = requests.filter((r) => keyOf(r) === key).length
      const handler = b.routes[key]
      const reply: Reply = handler ? await handler(rec, n) : { status: 404, json: { success: false, message: 'Not found.' } }
      if (res.destroyed) return
      if (reply.destroy) {
        req.socket.destroy()
        return
      }
      const headers: Record<string, string> = { ...reply.headers }
      let body = reply.body ?? ''
      if (reply.json !== undefined) {
        headers['content-type'] ??= 'application/json'
        body = JSON.stringify(reply.json)
      }
      res.writeHead(reply.status ?? 200, headers)
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  b.url = `http://127.0.0.1:${port}`
  b.requests = requests
  b.calls = (route) => requests.filter((r) => keyOf(r) === route)
  b.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return b
}

/** Deferred is a promise the test settles. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve: (v: T) => void
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** b64 encodes a value as the gateway's X-Auth-User does. */
export function b64(v: unknown): string {
  return Buffer.from(JSON.stringify(v), 'utf8').toString('base64')
}

/** nodeRequest makes an IncomingMessage-shaped request from header pairs. */
export function nodeRequest(headers: Record<string, string>): { headers: IncomingHttpHeaders } {
  const h: IncomingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v
  return { headers: h }
}

export const alice = { id: 1, name: 'Zoë Alice 🚀', email: 'alice@example.com', roles: ['user'], type: 'user' }
export const guest = { id: 'guest-1', name: 'Guest', type: 'guest' }
