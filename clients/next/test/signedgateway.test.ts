// Integration, signed mode: the real gateway (`apilayer serve`, built by
// gateway.setup.ts) with identity.sign on, in front of a Node web app whose
// getSession reads the default configuration from the environment:
// APILAYER_JWKS_URL points at the gateway's /_apilayer/jwks.json. The app
// believes the gateway's X-Auth-Assertion and nothing else.
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { getServerToken, getSession } from '../src'
import { b64 } from './server'

const bin = inject('apilayerBin')
const backendURL = inject('demoBackendURL')

let app: Server
let appURL = ''
let dir = ''
let gateway: ChildProcess | undefined
let gw = ''
const saved = { jwks: process.env.APILAYER_JWKS_URL, aud: process.env.APILAYER_AUDIENCE }

/** The web app: what getSession and getServerToken saw, as JSON. */
async function handle(req: IncomingMessage, res: ServerResponse) {
  let out: unknown
  try {
    out = { session: await getSession(req), token: await getServerToken(req) }
  } catch (e) {
    out = { error: String(e) }
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

function cookiesOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {}
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';')
    const eq = pair!.indexOf('=')
    out[pair!.slice(0, eq)] = pair!.slice(eq + 1)
  }
  return out
}

async function whoami(base: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/whoami`, { headers, redirect: 'manual' })
  return { json: (await res.json()) as Record<string, any>, cookies: cookiesOf(res) }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apilayer-next-signed-'))
  app = createServer((req, res) => void handle(req, res))
  app.listen(0, '127.0.0.1')
  await once(app, 'listening')
  appURL = `http://127.0.0.1:${(app.address() as AddressInfo).port}`
  const port = await freePort()
  gw = `http://127.0.0.1:${port}`
  const file = join(dir, 'signed.yaml')
  await writeFile(
    file,
    `listen: "127.0.0.1:${port}"
backend:
  url: "${backendURL}"
upstream:
  url: "${appURL}"
identity:
  sign: true
guest:
  enabled: true
  credentials: {username: guest, password: guest-password}
log: {level: error}
`,
  )
  gateway = spawn(bin, ['serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  gateway.stderr?.on('data', (c: Buffer) => (log += c.toString()))
  // A real process: a bounded poll until it answers.
  for (let i = 0; ; i++) {
    if (gateway.exitCode !== null) throw new Error(`apilayer serve exited (${gateway.exitCode}):\n${log}`)
    try {
      if ((await fetch(`${gw}/_apilayer/health`)).ok) break
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error(`apilayer serve did not start:\n${log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  // What an app configures: the gateway's JWKS, and the audience the gateway
  // signs for (its upstream.url).
  process.env.APILAYER_JWKS_URL = `${gw}/_apilayer/jwks.json`
  process.env.APILAYER_AUDIENCE = appURL
})

afterAll(async () => {
  for (const [k, v] of [['APILAYER_JWKS_URL', saved.jwks], ['APILAYER_AUDIENCE', saved.aud]] as const) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
    const exited = once(gateway, 'exit')
    gateway.kill('SIGTERM')
    await exited
  }
  app?.closeAllConnections()
  await new Promise((r) => app?.close(r))
  await rm(dir, { recursive: true, force: true })
})

const forged = {
  'x-auth-user': b64({ id: 666, name: 'Mallory', roles: ['admin'] }),
  'x-auth-token-type': 'user',
  'x-locale': 'xx',
}

describe('signed identity behind the real gateway (identity.sign, APILAYER_JWKS_URL)', () => {
  it('a signed-in user: the assertion is verified against the gateway’s JWKS', async () => {
    const login = await fetch(`${gw}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
    })
    expect(login.status).toBe(200)
    const token = cookiesOf(login).userAuthToken!
    const { json } = await whoami(gw, { cookie: `userAuthToken=${token}` })
    expect(json.session).toMatchObject({ tokenType: 'user', isAuthenticated: true, isGuest: false, verified: true, userTruncated: false })
    expect(json.session.user).toMatchObject({ name: 'Alice', email: 'alice@example.com' })
    expect(json.token).toBe(token)
  })

  it('a guest: verified too, with the guest type', async () => {
    const first = await whoami(gw)
    const guest = first.cookies.guestAuthToken!
    expect(guest).toBeTruthy()
    const { json } = await whoami(gw, { cookie: `guestAuthToken=${guest}` })
    expect(json.session).toMatchObject({ tokenType: 'guest', isGuest: true, isAuthenticated: false, verified: true })
  })

  it('a forged X-Auth-User through the gateway: stripped; the assertion says guest', async () => {
    const { json } = await whoami(gw, forged)
    expect(json.session.user?.name).not.toBe('Mallory')
    expect(json.session).toMatchObject({ isAuthenticated: false, verified: true })
  })

  it('a forged X-Auth-User straight to the app: refused, no identity and no token', async () => {
    const { json } = await whoami(appURL, { ...forged, cookie: 'userAuthToken=stolen' })
    expect(json).toEqual({
      session: { user: null, tokenType: null, isAuthenticated: false, isGuest: false, locale: null, userTruncated: false, verified: false },
      token: null,
    })
  })

  it('an assertion signed with another key, straight to the app: refused', async () => {
    const { privateKey } = generateKeyPairSync('ed25519')
    const now = Math.floor(Date.now() / 1000)
    const jws = await new SignJWT({ typ: 'user', user: { id: 666, name: 'Mallory' } })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuer('apilayer')
      .setAudience(appURL)
      .setSubject('666')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(privateKey)
    const { json } = await whoami(appURL, { 'x-auth-assertion': jws, cookie: 'userAuthToken=stolen' })
    expect(json.session).toMatchObject({ user: null, isAuthenticated: false, verified: false })
    expect(json.token).toBeNull()
  })
})
