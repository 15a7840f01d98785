// Integration: the real gateway (`apilayer serve`, built by
// gateway.setup.ts) in front of a Node web app that uses this package, with
// the demo backend of `apilayer demo` behind both.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ApiError, createApiClient, getServerToken, getSession } from '../src'
import { b64 } from './server'

const bin = inject('apilayerBin')
const backendURL = inject('demoBackendURL')

let app: Server
let appURL = ''
let dir = ''
const gateways: ChildProcess[] = []
let gw = '' // the gateway
let hidden = '' // a gateway with upstream.hideTokens

/** The web app: each route answers what the package saw or got. */
async function handle(req: IncomingMessage, res: ServerResponse) {
  const api = createApiClient({ baseURL: backendURL, req, methodSpoofing: true })
  const path = (req.url ?? '').split('?')[0]
  let out: unknown
  try {
    switch (path) {
      case '/whoami':
        out = { session: await getSession(req), token: await getServerToken(req) }
        break
      case '/posts':
        out = await api.get('posts')
        break
      case '/echo':
        out = await api.get('echo')
        break
      case '/echo-put':
        out = await api.put('echo', { a: 1 })
        break
      case '/stats':
        out = await api.get('admin/stats')
        break
      default:
        res.writeHead(404).end()
        return
    }
  } catch (e) {
    out = e instanceof ApiError ? { error: { status: e.status, code: e.code ?? null, message: e.serverMessage ?? e.message } } : { error: String(e) }
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out))
}

async function freePort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as AddressInfo
  s.close()
  await once(s, 'close')
  return port
}

/** serve starts `apilayer serve` with extra YAML and waits until it answers. */
async function serve(name: string, extra: string): Promise<string> {
  const port = await freePort()
  const file = join(dir, `${name}.yaml`)
  await writeFile(
    file,
    `listen: "127.0.0.1:${port}"
backend:
  url: "${backendURL}"
upstream:
  url: "${appURL}"
${extra}
guest:
  enabled: true
  credentials: {username: guest, password: guest-password}
validate:
  cacheTTL: 0s
i18n:
  enabled: true
  locales: [en, tr]
  defaultLocale: en
log: {level: warn}
`,
  )
  const child = spawn(bin, ['serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  gateways.push(child)
  let log = ''
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()))
  const url = `http://127.0.0.1:${port}`
  // A real process: a bounded poll until it answers.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`apilayer serve exited (${child.exitCode}):\n${log}`)
    try {
      if ((await fetch(`${url}/_apilayer/health`)).ok) return url
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error(`apilayer serve did not start:\n${log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function cookiesOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {}
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';')
    const eq = pair!.indexOf('=')
    out[pair!.slice(0, eq)] = pair!.slice(eq + 1)
  }
  return out
}

async function get(base: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, { headers, redirect: 'manual' })
  return { res, json: (await res.json()) as Record<string, any>, cookies: cookiesOf(res) }
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
  })
  expect(res.status).toBe(200)
  const token = cookiesOf(res).userAuthToken
  expect(token).toBeTruthy()
  return token!
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apilayer-next-gw-'))
  app = createServer((req, res) => void handle(req, res))
  app.listen(0, '127.0.0.1')
  await once(app, 'listening')
  appURL = `http://127.0.0.1:${(app.address() as AddressInfo).port}`
  gw = await serve('gw', '')
  hidden = await serve('hidden', '  hideTokens: true')
})

afterAll(async () => {
  for (const g of gateways) {
    if (g.exitCode === null && g.signalCode === null) {
      const exited = once(g, 'exit')
      g.kill('SIGTERM')
      await exited
    }
  }
  app?.closeAllConnections()
  await new Promise((r) => app?.close(r))
  await rm(dir, { recursive: true, force: true })
})

describe('behind the real gateway (apilayer serve + demo backend)', () => {
  it('a first visit: the app sees the guest and the token minted in this request', async () => {
    const { json, cookies } = await get(gw, '/whoami')
    expect(json.session).toMatchObject({ tokenType: 'guest', isGuest: true, isAuthenticated: false, locale: 'en', verified: false })
    expect(cookies.guestAuthToken).toBeTruthy()
    expect(json.token).toBe(cookies.guestAuthToken)
    // The next request, with the cookie, carries the guest's user object.
    const next = await get(gw, '/whoami', { cookie: `guestAuthToken=${cookies.guestAuthToken}` })
    expect(next.json.session).toMatchObject({ tokenType: 'guest', isGuest: true, user: { name: 'Guest' } })
    expect(next.json.token).toBe(cookies.guestAuthToken)
  })

  it('the API client calls the backend with the guest token', async () => {
    const first = await get(gw, '/whoami')
    const { json } = await get(gw, '/posts', { cookie: `guestAuthToken=${first.cookies.guestAuthToken}` })
    expect(json.success).toBe(true)
    expect(json.data).toHaveLength(3)
  })

  it('after login the app sees Alice, her token, and calls the backend as her', async () => {
    const token = await login(gw)
    const who = await get(gw, '/whoami', { cookie: `userAuthToken=${token}` })
    expect(who.json.session).toMatchObject({ tokenType: 'user', isAuthenticated: true, isGuest: false, locale: 'en' })
    expect(who.json.session.user).toMatchObject({ name: 'Alice', email: 'alice@example.com' })
    expect(who.json.token).toBe(token)
    const echo = await get(gw, '/echo', { cookie: `userAuthToken=${token}` })
    expect(echo.json.data).toMatchObject({ method: 'GET', type: 'user', query: { lang: ['en'] } })
  })

  it('the gateway’s locale reaches getSession and the lang parameter', async () => {
    const token = await login(gw)
    const who = await get(gw, '/whoami', { cookie: `userAuthToken=${token}`, 'accept-language': 'tr-TR,tr;q=0.9' })
    expect(who.json.session.locale).toBe('tr')
    const echo = await get(gw, '/echo', { cookie: `userAuthToken=${token}`, 'accept-language': 'tr' })
    expect(echo.json.data.query).toEqual({ lang: ['tr'] })
  })

  it('method spoofing reaches the backend as POST with _method', async () => {
    const token = await login(gw)
    const { json } = await get(gw, '/echo-put', { cookie: `userAuthToken=${token}` })
    expect(json.data).toMatchObject({ method: 'POST', body: { a: 1, _method: 'PUT' } })
  })

  it('a backend refusal is an ApiError with the backend’s status and message', async () => {
    const token = await login(gw)
    const { json } = await get(gw, '/stats', { cookie: `userAuthToken=${token}` })
    expect(json.error).toEqual({ status: 403, code: null, message: 'This action is unauthorized.' })
  })

  it('after a transparent refresh the app gets the new token, not the stale cookie', async () => {
    const old = await login(gw)
    const expire = await fetch(`${gw}/api/demo/expire-session`, { method: 'POST', headers: { cookie: `userAuthToken=${old}`, accept: 'application/json' } })
    expect(expire.status).toBe(200)
    const who = await get(gw, '/whoami', { cookie: `userAuthToken=${old}` })
    const fresh = who.cookies.userAuthToken
    expect(fresh).toBeTruthy()
    expect(fresh).not.toBe(old)
    expect(who.json.token).toBe(fresh)
    expect(who.json.session.isAuthenticated).toBe(true)
  })

  it('a client’s forged X-Auth-User never reaches the app', async () => {
    const forged = { 'x-auth-user': b64({ id: 666, name: 'Mallory' }), 'x-auth-token-type': 'user', x_auth_user: b64({ name: 'Mallory' }) }
    const { json } = await get(gw, '/whoami', forged)
    expect(json.session.user?.name).not.toBe('Mallory')
    expect(json.session.isAuthenticated).toBe(false)
  })

  it('upstream.hideTokens: the session is there, the token is not', async () => {
    const token = await login(hidden)
    const who = await get(hidden, '/whoami', { cookie: `userAuthToken=${token}` })
    expect(who.json.session).toMatchObject({ isAuthenticated: true, user: { name: 'Alice' } })
    expect(who.json.token).toBeNull()
    const posts = await get(hidden, '/posts', { cookie: `userAuthToken=${token}` })
    expect(posts.json.error).toMatchObject({ status: 401, code: 'no_token' })
  })
})
