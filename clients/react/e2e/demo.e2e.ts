// Browser end-to-end tests: a real Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) against `apilayer demo`, built and started here
// on a free loopback port. Screenshots go to test-artifacts/e2e/.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repo = resolve(__dirname, '..', '..', '..')
const artifacts = join(repo, 'test-artifacts', 'e2e')
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

let demo: ChildProcess
let base = '' // the gateway, http://127.0.0.1:PORT
let attacker: Server
let attackerURL = '' // a second origin (and site): http://localhost:PORT
let browser: Browser
let context: BrowserContext
let page: Page
const bin = join(tmpdir(), `apilayer-e2e-${process.pid}`)

async function freePort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address() as AddressInfo
  s.close()
  await once(s, 'close')
  return port
}

async function startDemo(bin: string): Promise<void> {
  const port = await freePort()
  demo = spawn(bin, ['demo', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  await new Promise<void>((resolveReady, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('apilayer demo is running at')) resolveReady()
    }
    demo.stdout?.on('data', onData)
    demo.stderr?.on('data', (c: Buffer) => (out += c.toString()))
    demo.once('exit', (code) => reject(new Error(`apilayer demo exited (${code}):\n${out}`)))
  })
  base = `http://127.0.0.1:${port}`
}

async function startAttacker(): Promise<void> {
  // A page on another site that posts a form to the gateway's API.
  attacker = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="${base}/api/echo" enctype="text/plain">
<input name='{"transfer":"everything","x":"' value='"}'><button>Claim</button></form>`)
  })
  attacker.listen(0, '127.0.0.1')
  await once(attacker, 'listening')
  attackerURL = `http://localhost:${(attacker.address() as AddressInfo).port}`
}

async function cookie(name: string) {
  return (await context.cookies(base)).find((c) => c.name === name)
}

async function shot(name: string) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true })
  await promisify(execFile)('go', ['build', '-o', bin, './cmd/apilayer'], { cwd: repo })
  await startDemo(bin)
  await startAttacker()
  browser = await chromium.launch({ executablePath: chromiumPath, args: flags, headless: true })
  context = await browser.newContext({ viewport: { width: 900, height: 720 } })
  page = await context.newPage()
})

afterAll(async () => {
  await browser?.close()
  if (demo && demo.exitCode === null) {
    const exited = once(demo, 'exit')
    demo.kill('SIGTERM')
    await exited
  }
  if (attacker) {
    attacker.closeAllConnections()
    await new Promise((r) => attacker.close(r))
  }
  await rm(bin, { force: true })
})

describe('apilayer demo in a browser', () => {
  it('gives a guest an httpOnly session cookie that document.cookie cannot read', async () => {
    const res = await page.goto(`${base}/`)
    expect(res?.status()).toBe(200)
    await expect.poll(() => page.locator('#title').textContent()).toBe('Guest')
    const guest = await cookie('guestAuthToken')
    expect(guest?.value).toBeTruthy()
    expect(guest?.httpOnly).toBe(true)
    const visible = await page.evaluate(() => document.cookie)
    expect(visible).not.toContain('guestAuthToken')
    expect(visible).not.toContain(guest?.value ?? '<none>')
    expect(visible).toContain('__csrf=')
    expect(await page.locator('#visible-cookies').textContent()).not.toContain('guestAuthToken')
    await shot('logged-out')
  })

  it('sends a guest from the dashboard to the login page', async () => {
    await page.goto(`${base}/dashboard`)
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/login?next=%2Fdashboard')
    await expect.poll(() => page.locator('#title').textContent()).toBe('Sign in')
  })

  it('shows validation errors and refusals from the backend', async () => {
    await page.click('#login button[type=submit]')
    await expect.poll(() => page.locator('#errors').textContent()).toContain('The username field is required.')
    expect(await page.locator('#errors').textContent()).toContain('The password field is required.')
    await page.fill('input[name=username]', 'alice')
    await page.fill('input[name=password]', 'wrong-password')
    await page.click('#login button[type=submit]')
    await expect.poll(() => page.locator('#errors').textContent()).toBe('Invalid credentials.')
    await shot('login-errors')
  })

  it('logs in and shows the dashboard with the user from X-Auth-User', async () => {
    await page.fill('input[name=password]', 'alice-password')
    await Promise.all([page.waitForURL(`${base}/dashboard`), page.click('#login button[type=submit]')])
    await expect.poll(() => page.locator('#name').textContent()).toBe('Alice')
    expect(await page.locator('#roles li').allTextContents()).toEqual(['user'])
    expect(await page.locator('#who').textContent()).toBe('Signed in as Alice')
    const user = await cookie('userAuthToken')
    expect(user?.httpOnly).toBe(true)
    expect(await cookie('guestAuthToken')).toBeUndefined()
    expect(await page.evaluate(() => document.cookie)).not.toContain(user?.value ?? '<none>')
    expect(await page.locator('#user').textContent()).not.toMatch(/accessToken|refreshToken/)
    await shot('dashboard')
  })

  it('keeps the admin page from a user without the admin role', async () => {
    const res = await page.goto(`${base}/admin`)
    expect(res?.status()).toBe(403)
    await expect.poll(() => page.locator('#title').textContent()).toBe('Forbidden')
  })

  it('posts a CSRF-protected form with apiFetch', async () => {
    await page.goto(`${base}/dashboard`)
    await page.fill('input[name=note]', 'hello, gateway')
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${base}/api/echo`),
      page.click('#note button[type=submit]'),
    ])
    expect(res.status()).toBe(200)
    expect(res.request().headers()['x-csrf-token']).toBe((await cookie('__csrf'))?.value)
    await expect.poll(() => page.locator('#echo').textContent()).toBe('HTTP 200: the backend received {"note":"hello, gateway"}')
  })

  it('refreshes an expired token transparently, without a visible logout', async () => {
    const before = (await cookie('userAuthToken'))?.value
    expect(before).toBeTruthy()
    await page.click('#expire')
    await expect.poll(() => page.locator('#refresh-status').textContent()).toContain('the gateway refreshed it transparently')
    expect(await page.locator('#refresh-status').textContent()).toContain('Still signed in as Alice')
    const after = (await cookie('userAuthToken'))?.value
    expect(after).toBeTruthy()
    expect(after).not.toBe(before)
    expect(await page.locator('#who').textContent()).toBe('Signed in as Alice')
    expect(await page.locator('#logout').isVisible()).toBe(true)
    await shot('refreshed')
    await page.reload()
    await expect.poll(() => page.locator('#name').textContent()).toBe('Alice')
  })

  it('rejects a cross-site form post with 403', async () => {
    const attack = await context.newPage()
    try {
      await attack.goto(`${attackerURL}/`)
      const [res] = await Promise.all([
        attack.waitForResponse((r) => r.url() === `${base}/api/echo`),
        attack.click('#f button'),
      ])
      expect((await res.request().allHeaders())['sec-fetch-site']).toBe('cross-site')
      expect(res.status()).toBe(403)
      expect(await res.json()).toEqual({ success: false, message: 'CSRF validation failed.', code: 'csrf' })
      await attack.screenshot({ path: join(artifacts, 'csrf-rejected.png') })
    } finally {
      await attack.close()
    }
    // The session is untouched.
    await page.reload()
    await expect.poll(() => page.locator('#name').textContent()).toBe('Alice')
  })

  it('logs out', async () => {
    await Promise.all([page.waitForURL(`${base}/`), page.click('#logout')])
    await expect.poll(() => page.locator('#title').textContent()).toBe('Guest')
    expect(await cookie('userAuthToken')).toBeUndefined()
    await page.goto(`${base}/dashboard`)
    expect(new URL(page.url()).pathname).toBe('/login')
    await shot('logged-out-again')
  })

  it('shows the admin statistics to an admin', async () => {
    await page.fill('input[name=username]', 'admin')
    await page.fill('input[name=password]', 'admin-password')
    await Promise.all([page.waitForURL(`${base}/dashboard`), page.click('#login button[type=submit]')])
    await page.goto(`${base}/admin`)
    await expect.poll(() => page.locator('#stats td').first().textContent()).toBeTruthy()
    expect(await page.locator('#stats').textContent()).toContain('users')
    await shot('admin')
  })
})
