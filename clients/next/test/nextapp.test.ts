// A Next.js App Router app (test/nextapp) built with `next build` and served
// by `next start`, with @apilayer/react and @apilayer/next installed from
// the tarballs `npm pack` makes: a root layout.tsx (a server component)
// renders AuthProvider, a page reads getSession() through next/headers, and
// a route handler calls a backend with createApiClient.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { b64, startBackend, type Backend } from './server'

const run = promisify(execFile)
const here = resolve(__dirname, '..')
const app = join(here, 'test', 'nextapp')
const packages = { react: resolve(here, '..', 'react'), next: here }
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }

let server: ChildProcess | undefined
let base = ''
let backend: Backend
let buildLog = ''

async function freePort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as AddressInfo
  s.close()
  await once(s, 'close')
  return port
}

/** install packs a package and unpacks it where npm would install it. */
async function install(name: 'react' | 'next', tmp: string) {
  const dir = packages[name]
  if (!existsSync(join(dir, 'dist', 'index.js'))) throw new Error(`${dir}/dist is missing: run npm run build there first`)
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: dir })
  const tarball = join(tmp, stdout.trim().split('\n').pop()!)
  const dest = join(app, 'node_modules', '@apilayer', name)
  await rm(dest, { recursive: true, force: true })
  await mkdir(dest, { recursive: true })
  await run('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1'])
}

beforeAll(async () => {
  if (!existsSync(join(app, 'node_modules', 'next'))) throw new Error(`${app}/node_modules is missing: run npm ci there first`)
  const tmp = await mkdtemp(join(tmpdir(), 'apilayer-pack-'))
  try {
    await install('react', tmp)
    await install('next', tmp)
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
  // .next/cache is kept between runs (Turbopack's cache halves the build);
  // BUILD_ID is written again by every successful build.
  await rm(join(app, '.next', 'BUILD_ID'), { force: true })
  try {
    const out = await run(join(app, 'node_modules', '.bin', 'next'), ['build'], { cwd: app, env, maxBuffer: 16 << 20 })
    buildLog = out.stdout + out.stderr
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string }
    throw new Error(`next build failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`)
  }

  backend = await startBackend({
    'GET /api/posts': (r) => ({ json: { success: true, data: [{ id: 1 }], auth: r.headers.authorization ?? null, path: r.path } }),
  })
  const port = await freePort()
  server = spawn(join(app, 'node_modules', '.bin', 'next'), ['start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: app,
    env: { ...env, BACKEND_URL: `${backend.url}/api/` },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  server.stdout?.on('data', (c: Buffer) => (log += c.toString()))
  server.stderr?.on('data', (c: Buffer) => (log += c.toString()))
  base = `http://127.0.0.1:${port}`
  // A real process: a bounded poll until it answers.
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) throw new Error(`next start exited (${server.exitCode}):\n${log}`)
    try {
      await fetch(base + '/api/posts')
      break
    } catch {
      if (i > 300) throw new Error(`next start did not answer:\n${log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
})

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = once(server, 'exit')
    server.kill('SIGTERM')
    await exited
  }
  await backend?.close()
})

const alice = { id: 1, name: 'Alice', roles: ['user'] }

describe('a Next.js App Router app with both packages', () => {
  it('next build compiles the layout that renders AuthProvider', () => {
    expect(buildLog).toMatch(/Compiled successfully|Compiled/)
    expect(existsSync(join(app, '.next', 'BUILD_ID'))).toBe(true)
  })

  it('the page reads the gateway’s headers; AuthProvider hands the user to client components', async () => {
    const res = await fetch(base + '/', {
      headers: { 'x-auth-user': b64(alice), 'x-auth-token-type': 'user', 'x-locale': 'tr' },
    })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toMatch(/id="server">server: (<!-- -->)?Alice(<!-- -->)? locale: (<!-- -->)?tr/)
    expect(html).toMatch(/id="client">client: (<!-- -->)?Alice/)
  })

  it('a guest and an anonymous visitor', async () => {
    const guest = await (await fetch(base + '/', { headers: { 'x-auth-user': b64({ id: 'g' }), 'x-auth-token-type': 'guest' } })).text()
    expect(guest).toMatch(/server: (<!-- -->)?guest/)
    expect(guest).toMatch(/client: (<!-- -->)?nobody/)
    const anon = await (await fetch(base + '/')).text()
    expect(anon).toMatch(/server: (<!-- -->)?anonymous/)
  })

  it('a route handler calls the backend with the request’s token and locale', async () => {
    const res = await fetch(base + '/api/posts', { headers: { cookie: 'userAuthToken=tok-a', 'x-locale': 'tr' } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { posts: { auth: string; path: string } }
    expect(body.posts.auth).toBe('Bearer tok-a')
    expect(body.posts.path).toBe('/api/posts?lang=tr')
    const none = await fetch(base + '/api/posts')
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({ error: 'no_token' })
  })
})
