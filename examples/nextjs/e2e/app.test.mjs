// End-to-end test of this example in a real Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core): `next build` + `next start`
// of this folder behind a real `apilayer serve --config apilayer.yaml` (built
// from the repository), with the demo backend of examples/demobackend. Every
// process listens on a free loopback port; the backend is reached through a
// TCP relay that the outage step closes and reopens, so the backend keeps its
// keys and sessions across the outage, as a real one would.
//
// Run: npm run test:e2e (make test-nextjs-example builds the packages first).
// Screenshots go to test-artifacts/e2e-nextjs/ at the repository root.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { chromium } from 'playwright-core'

const run = promisify(execFile)
const app = resolve(fileURLToPath(new URL('..', import.meta.url)))
const repo = resolve(app, '..', '..')
const artifacts = join(repo, 'test-artifacts', 'e2e-nextjs')
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }

const procs = [] // every process started here, stopped in after()
let tmp = ''
let relay // the backend as the gateway and the app see it
let gw = '' // the gateway: http://127.0.0.1:PORT
let appURL = '' // next start, reached directly only by the forged-header check
let browser
let context
let page
const timings = {}
const t0 = Date.now()

function mark(name) {
  timings[name] = ((Date.now() - t0) / 1000).toFixed(1) + 's'
}

async function freePort() {
  const s = net.createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  s.close()
  await once(s, 'close')
  return port
}

/** start spawns a process whose output is kept for the error messages. */
function start(name, cmd, args, opts = {}) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
  p.log = ''
  p.stdout.on('data', (c) => (p.log += c))
  p.stderr.on('data', (c) => (p.log += c))
  p.name = name
  procs.push(p)
  return p
}

/** waitFor polls url until it answers (a real process: a bounded poll). */
async function waitFor(p, url) {
  for (let i = 0; ; i++) {
    if (p.exitCode !== null) throw new Error(`${p.name} exited (${p.exitCode}):\n${p.log}`)
    try {
      await fetch(url, { redirect: 'manual' })
      return
    } catch {
      if (i > 600) throw new Error(`${p.name} did not answer ${url}:\n${p.log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** tcpRelay forwards 127.0.0.1:port to 127.0.0.1:target until stopped. */
function tcpRelay(port, target) {
  let server
  const sockets = new Set()
  return {
    url: `http://127.0.0.1:${port}/api/`,
    async start() {
      server = net.createServer((c) => {
        const u = net.connect(target, '127.0.0.1')
        sockets.add(c).add(u)
        const done = () => {
          c.destroy()
          u.destroy()
          sockets.delete(c)
          sockets.delete(u)
        }
        c.on('error', done).on('close', done)
        u.on('error', done).on('close', done)
        c.pipe(u).pipe(c)
      })
      server.listen(port, '127.0.0.1')
      await once(server, 'listening')
    },
    async stop() {
      for (const s of sockets) s.destroy()
      sockets.clear()
      if (server?.listening) await new Promise((r) => server.close(r))
    },
  }
}

/** install packs a package of clients/ and unpacks it where npm installed it. */
async function install(name) {
  const dir = join(repo, 'clients', name)
  if (!existsSync(join(dir, 'dist', 'index.js'))) throw new Error(`${dir}/dist is missing: run npm run build there first`)
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: dir })
  const tarball = join(tmp, stdout.trim().split('\n').pop())
  const dest = join(app, 'node_modules', '@apilayer', name)
  await rm(dest, { recursive: true, force: true })
  await mkdir(dest, { recursive: true })
  await run('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1'])
}

/** poll retries check until it stops throwing (bounded). */
async function poll(check, ms = 15_000) {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await check()
    } catch (e) {
      if (Date.now() > end) throw e
      await new Promise((r) => setTimeout(r, 200))
    }
  }
}

const text = (sel) => page.locator(sel).first().textContent()
const path = () => {
  const u = new URL(page.url())
  return u.pathname + u.search
}
const cookie = async (name) => (await context.cookies(gw)).find((c) => c.name === name)
const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })

before(async () => {
  if (!existsSync(join(app, 'node_modules', 'next'))) throw new Error(`${app}/node_modules is missing: run npm ci there first`)
  await mkdir(artifacts, { recursive: true })
  tmp = await mkdtemp(join(tmpdir(), 'apilayer-nextjs-e2e-'))
  const go = process.env.GO ?? 'go'
  await Promise.all([
    run(go, ['build', '-o', join(tmp, 'apilayer'), './cmd/apilayer'], { cwd: repo }),
    run(go, ['build', '-o', join(tmp, 'demobackend'), './examples/demobackend'], { cwd: repo }),
    install('next'),
    install('react'),
  ])
  mark('binaries and packages')
  // .next/cache is kept between runs; BUILD_ID is written by each good build.
  await rm(join(app, '.next', 'BUILD_ID'), { force: true })
  try {
    await run(join(app, 'node_modules', '.bin', 'next'), ['build'], { cwd: app, env, maxBuffer: 16 << 20 })
  } catch (e) {
    throw new Error(`next build failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
  mark('next build')

  const [backendPort, relayPort, gwPort, appPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const backend = start('demobackend', join(tmp, 'demobackend'), ['-listen', `127.0.0.1:${backendPort}`])
  relay = tcpRelay(relayPort, backendPort)
  await relay.start()
  gw = `http://127.0.0.1:${gwPort}`
  appURL = `http://127.0.0.1:${appPort}`
  // The example's own apilayer.yaml, with the addresses from the environment.
  const gateway = start('apilayer serve', join(tmp, 'apilayer'), ['serve', '--config', 'apilayer.yaml'], {
    cwd: app,
    env: { ...env, APILAYER_LISTEN: `127.0.0.1:${gwPort}`, API_BASE_URL: relay.url, APP_URL: appURL },
  })
  const next = start('next start', join(app, 'node_modules', '.bin', 'next'), ['start', '-H', '127.0.0.1', '-p', String(appPort)], {
    cwd: app,
    env: { ...env, API_BASE_URL: relay.url, APILAYER_JWKS_URL: `${gw}/_apilayer/jwks.json`, APILAYER_AUDIENCE: appURL },
  })
  await waitFor(backend, `http://127.0.0.1:${backendPort}/api/public/info`)
  await waitFor(gateway, `${gw}/_apilayer/health`)
  await waitFor(next, `${appURL}/login`)
  browser = await chromium.launch({ executablePath: chromiumPath, args: flags, headless: true })
  context = await browser.newContext({ viewport: { width: 900, height: 800 } })
  page = await context.newPage()
  mark('processes up')
})

after(async () => {
  await browser?.close()
  await relay?.stop()
  for (const p of procs.reverse()) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = once(p, 'exit')
      p.kill('SIGTERM')
      await exited
    }
  }
  if (tmp) await rm(tmp, { recursive: true, force: true })
  mark('stopped')
  console.log('# timings (since start):', JSON.stringify(timings))
})

describe('examples/nextjs behind apilayer serve, in Chromium', () => {
  it('guest: the gateway mints a guest token in an httpOnly cookie; the app verifies the assertion', async () => {
    const res = await page.goto(`${gw}/`)
    assert.equal(res.status(), 200)
    assert.equal(await text('#token-type'), 'guest')
    assert.match(await text('main p'), /signed assertion verified/)
    const guest = await cookie('guestAuthToken')
    assert.ok(guest?.value, 'guestAuthToken is set')
    assert.equal(guest.httpOnly, true)
    const visible = await page.evaluate(() => document.cookie)
    assert.ok(!visible.includes('guestAuthToken'), 'scripts cannot read the guest token')
    assert.equal(await text('#state'), 'guest')
    await shot('1-guest')
  })

  it('forged identity: X-Auth-User sent to the gateway or straight to the app is not believed', async () => {
    const forged = { 'x-auth-user': Buffer.from(JSON.stringify({ id: 666, name: 'Mallory' })).toString('base64'), 'x-auth-token-type': 'user' }
    const via = await (await fetch(`${gw}/api/whoami`, { headers: forged })).json()
    assert.equal(via.via, 'next') // api.appRoutes: the app's route handler, not the backend
    assert.notEqual(via.user?.name, 'Mallory')
    const direct = await (await fetch(`${appURL}/api/whoami`, { headers: forged })).json()
    assert.deepEqual(direct, { via: 'next', user: null, tokenType: null, verified: false })
  })

  it('a guest on a protected page: the Dashboard link ends at /login?next=%2Fdashboard; nothing is prefetched as 401', async () => {
    const prefetch401 = []
    const navigation401 = []
    const onResponse = (r) => {
      if (!r.url().includes('_rsc=') || r.status() !== 401) return
      const prefetch = r.request().headers()['next-router-prefetch'] === '1'
      ;(prefetch ? prefetch401 : navigation401).push(r.url())
    }
    page.on('response', onResponse)
    await page.goto(`${gw}/`)
    await page.waitForLoadState('networkidle')
    await page.click('nav >> text=Dashboard')
    await poll(async () => assert.equal(path(), '/login?next=%2Fdashboard'))
    assert.equal(await text('#title'), 'Sign in')
    page.off('response', onResponse)
    assert.deepEqual(prefetch401, [], 'no prefetch of /dashboard was answered 401')
    // The click's RSC request gets the gateway's 401; Next.js then loads the
    // page in full, and the gateway redirects that to the login page.
    console.log(`# a guest's click on Dashboard: ${navigation401.length} RSC request(s) answered 401, then a full navigation`)
  })

  it('login: a refusal is shown; then the form goes back to ?next=', async () => {
    await page.fill('input[name=username]', 'alice')
    await page.fill('input[name=password]', 'wrong-password')
    await page.click('#login button[type=submit]')
    await poll(async () => assert.equal(await text('#error'), 'Invalid credentials.'))
    await page.fill('input[name=password]', 'alice-password')
    await page.click('#login button[type=submit]')
    await poll(async () => assert.equal(path(), '/dashboard'))
    const user = await cookie('userAuthToken')
    assert.ok(user?.value)
    assert.equal(user.httpOnly, true)
    assert.equal(await cookie('guestAuthToken'), undefined, 'the guest cookie is gone')
  })

  it('dashboard: the server component has the verified user and the posts it fetched as her', async () => {
    assert.equal(await text('#hello'), 'Hello Alice.')
    assert.equal(await page.locator('#posts li').count(), 3)
    assert.equal(await page.locator('#stale').count(), 0)
    assert.equal(await text('#state'), 'signed in')
    const who = await page.evaluate(() => fetch('/api/whoami').then((r) => r.json()))
    assert.equal(who.via, 'next')
    assert.equal(who.user?.name, 'Alice')
    assert.equal(who.verified, true)
    await shot('2-dashboard')
  })

  it('a server action calls the backend as the signed-in user', async () => {
    await page.fill('#note input[name=note]', 'hello from e2e')
    await page.click('#note button[type=submit]')
    await poll(async () => assert.equal(await text('#note-result'), 'The backend got "hello from e2e" by POST from a user token of Alice.'))
  })

  it('refresh: an access token that expired is refreshed on a later request, without a sign-in', async () => {
    const before = (await cookie('userAuthToken')).value
    await page.click('#expire')
    await poll(async () => assert.match(await text('#expired'), /^Expired/))
    // The gateway believes its cached validation for validate.cacheTTL (2 s);
    // the first request after that refreshes the token.
    await poll(async () => {
      const res = await page.reload()
      assert.equal(res.status(), 200)
      assert.notEqual((await cookie('userAuthToken')).value, before, 'the gateway set a new access token')
    })
    assert.equal(path(), '/dashboard')
    assert.equal(await text('#hello'), 'Hello Alice.')
    assert.equal(await page.locator('#posts li').count(), 3, 'the app called the backend with the refreshed token')
  })

  it('role denial: alice on /admin gets the gateway’s 403 page', async () => {
    const res = await page.goto(`${gw}/admin`)
    assert.equal(res.status(), 403)
    assert.match(await page.locator('body').textContent(), /not authorized|admin/i)
    assert.equal(await page.locator('#stats').count(), 0, 'Next.js never rendered the admin page')
    await shot('3-admin-denied')
  })

  it('backend outage: the session and the last posts are served stale; back to fresh when it returns', async () => {
    await page.goto(`${gw}/dashboard`)
    assert.equal(await page.locator('#posts li').count(), 3)
    await relay.stop()
    const res = await page.reload()
    assert.equal(res.status(), 200, 'validate.staleIfError: the gateway serves the last good validation')
    assert.equal(await text('#hello'), 'Hello Alice.')
    assert.match(await text('#stale'), /The backend is unavailable\. These are the posts it gave at/)
    assert.equal(await page.locator('#posts li').count(), 3)
    assert.equal((await page.goto(`${gw}/`)).status(), 200)
    await page.goto(`${gw}/dashboard`)
    await shot('4-outage')
    await relay.start()
    await poll(async () => {
      const r = await page.reload()
      assert.equal(r.status(), 200)
      assert.equal(await page.locator('#stale').count(), 0)
    })
    assert.equal(await text('#hello'), 'Hello Alice.')
    assert.equal(await page.locator('#posts li').count(), 3)
  })

  it('logout: the session ends; the dashboard sends the visitor to sign in again', async () => {
    await page.click('#logout')
    await poll(async () => assert.equal(path(), '/'))
    await poll(async () => assert.equal(await text('#state'), 'guest'))
    assert.equal(await cookie('userAuthToken'), undefined)
    await page.goto(`${gw}/dashboard`)
    assert.equal(path(), '/login?next=%2Fdashboard')
    await shot('5-logged-out')
  })
})
