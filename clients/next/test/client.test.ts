import { createServer } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ApiError, NetworkError, TimeoutError, createApiClient, type ApiClientOptions, type RetryInfo } from '../src'
import { setAppRequest } from './next-headers'
import { b64, deferred, nodeRequest, startBackend, type Backend } from './server'

let be: Backend
beforeAll(async () => {
  be = await startBackend()
})
afterAll(async () => {
  await be.close()
})
afterEach(() => {
  be.requests.length = 0
  be.routes = {}
  setAppRequest(null)
})

const ok = (json: unknown = { success: true }) => () => ({ json })
const aliceReq = nodeRequest({ cookie: 'userAuthToken=tok-alice', 'x-auth-user': b64({ id: 1 }), 'x-auth-token-type': 'user', 'x-locale': 'tr' })
const bobReq = nodeRequest({ cookie: 'userAuthToken=tok-bob', 'x-auth-user': b64({ id: 2 }), 'x-auth-token-type': 'user', 'x-locale': 'tr' })

/** client makes a client of the test backend; sleeps are recorded and skipped. */
function client(o: Partial<ApiClientOptions> = {}) {
  const waits: number[] = []
  const retries: RetryInfo[] = []
  const c = createApiClient({
    baseURL: `${be.url}/api/`,
    req: aliceReq,
    sleep: async (ms) => {
      waits.push(ms)
    },
    random: () => 0.5, // no jitter: 1 - j + 2*j*0.5 = 1
    onRetry: (info) => retries.push(info),
    ...o,
  })
  return { c, waits, retries }
}

describe('token and locale', () => {
  it('sends the request’s token as Bearer, the locale as lang, and Accept JSON', async () => {
    be.routes = { 'GET /api/posts': ok({ success: true, data: [1] }) }
    const { c } = client()
    expect(await c.get('posts')).toEqual({ success: true, data: [1] })
    const r = be.calls('GET /api/posts')[0]
    expect(r?.headers.authorization).toBe('Bearer tok-alice')
    expect(r?.headers.accept).toBe('application/json')
    expect(r?.path).toBe('/api/posts?lang=tr')
  })

  it('reads the App Router request by default, preferring X-Refreshed-Token', async () => {
    be.routes = { 'GET /api/posts': ok() }
    setAppRequest({ 'x-refreshed-token': 'fresh', cookie: 'userAuthToken=stale', 'x-auth-user': b64({ id: 1 }), 'x-locale': 'en' })
    await createApiClient({ baseURL: `${be.url}/api` }).get('/posts')
    const r = be.calls('GET /api/posts')[0]
    expect(r?.headers.authorization).toBe('Bearer fresh')
    expect(r?.path).toBe('/api/posts?lang=en')
  })

  it('a call’s req, token and locale override the client’s', async () => {
    be.routes = { 'GET /api/me': ok() }
    const { c } = client()
    await c.get('me', { req: bobReq })
    await c.get('me', { token: 'given', locale: 'de' })
    await c.get('me', { locale: null })
    const got = be.calls('GET /api/me').map((r) => [r.headers.authorization, r.path])
    expect(got).toEqual([
      ['Bearer tok-bob', '/api/me?lang=tr'],
      ['Bearer given', '/api/me?lang=de'],
      ['Bearer tok-alice', '/api/me'],
    ])
  })

  it('a client token function is used without reading any request', async () => {
    be.routes = { 'GET /api/me': ok() }
    await createApiClient({ baseURL: be.url, token: async () => 'from-fn' }).get('api/me')
    expect(be.calls('GET /api/me')[0]?.headers.authorization).toBe('Bearer from-fn')
    expect(be.calls('GET /api/me')[0]?.path).toBe('/api/me')
  })

  it('without a token: ApiError no_token and nothing is sent', async () => {
    const { c } = client({ req: nodeRequest({}) })
    const err = await c.get('posts').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 401, code: 'no_token', method: 'GET', endpoint: 'posts' })
    expect(be.requests).toHaveLength(0)
  })

  it('skipAuth sends no Authorization, even one set in headers', async () => {
    be.routes = { 'GET /api/public/info': ok() }
    const { c } = client({ headers: { Authorization: 'Bearer default' } })
    await c.get('public/info', { skipAuth: true })
    await createApiClient({ baseURL: `${be.url}/api/`, skipAuth: true }).get('public/info')
    expect(be.calls('GET /api/public/info').map((r) => r.headers.authorization)).toEqual([undefined, undefined])
  })

  it('i18n: locales filter what is sent, paramName renames it, false sends none', async () => {
    be.routes = { 'GET /api/x': ok() }
    await client({ i18n: { locales: ['en'] } }).c.get('x')
    await client({ i18n: { paramName: 'locale' } }).c.get('x')
    await client({ i18n: false }).c.get('x')
    expect(be.calls('GET /api/x').map((r) => r.path)).toEqual(['/api/x', '/api/x?locale=tr', '/api/x'])
  })

  it('query parameters join the endpoint’s; the locale replaces a lang given', async () => {
    be.routes = { 'GET /api/search': ok() }
    await client().c.get('search?q=a%20b&lang=xx', { query: { page: 2, tag: ['a', 'b'], skip: undefined } })
    expect(be.calls('GET /api/search')[0]?.path).toBe('/api/search?q=a+b&lang=tr&page=2&tag=a&tag=b')
  })

  it('default and per-call headers', async () => {
    be.routes = { 'GET /api/h': ok() }
    await client({ headers: { 'X-App': 'web', Accept: 'text/plain' } }).c.get('h', { headers: { 'X-Call': '1' } })
    const h = be.calls('GET /api/h')[0]?.headers
    expect([h?.['x-app'], h?.['x-call'], h?.accept]).toEqual(['web', '1', 'text/plain'])
  })

  it('asks fetch not to cache (answers are per user) unless told otherwise', async () => {
    be.routes = { 'GET /api/c': ok() }
    const seen: (RequestCache | undefined)[] = []
    const spy: typeof fetch = (input, init) => {
      seen.push(init?.cache)
      return fetch(input, init)
    }
    const { c } = client({ fetch: spy })
    await c.get('c')
    await c.get('c', { cache: 'force-cache' })
    expect(seen).toEqual(['no-store', 'force-cache'])
  })
})

describe('endpoints', () => {
  const bad = ['../admin', 'a/%2e%2e/b', 'a/./b', 'http://evil.test/x', 'a%2fb', 'a\\..\\b', '%zz']
  for (const endpoint of bad) {
    it(`refuses ${JSON.stringify(endpoint)} and sends nothing`, async () => {
      await expect(client().c.get(endpoint)).rejects.toThrow(/bad endpoint/)
      expect(be.requests).toHaveLength(0)
    })
  }

  it('keeps the base path and drops a fragment', async () => {
    be.routes = { 'GET /v1/api/users/5': ok() }
    await createApiClient({ baseURL: `${be.url}/v1/api`, token: 't', i18n: false }).get('//users/5#frag')
    expect(be.calls('GET /v1/api/users/5')).toHaveLength(1)
  })

  it('refuses a baseURL that is not http(s)', () => {
    expect(() => createApiClient({ baseURL: 'ftp://x/' })).toThrow(/baseURL/)
    expect(() => createApiClient({ baseURL: '/api' })).toThrow(/baseURL/)
  })
})

describe('bodies and answers', () => {
  it('sends objects as JSON and parses JSON answers', async () => {
    be.routes = { 'POST /api/notes': (r) => ({ status: 201, json: { success: true, data: JSON.parse(r.body) } }) }
    const got = await client().c.post<{ data: unknown }>('notes', { text: 'hi', n: [1] })
    expect(got.data).toEqual({ text: 'hi', n: [1] })
    expect(be.calls('POST /api/notes')[0]?.headers['content-type']).toBe('application/json')
  })

  it('request() gives the status and headers', async () => {
    be.routes = { 'PUT /api/n/1': () => ({ status: 202, json: { ok: 1 }, headers: { 'x-v': '7' } }) }
    const res = await client().c.request('put', 'n/1', { body: { a: 1 } })
    expect([res.status, res.headers.get('x-v'), res.data]).toEqual([202, '7', { ok: 1 }])
  })

  it('204 and empty bodies are undefined; text stays text', async () => {
    be.routes = {
      'DELETE /api/n/1': () => ({ status: 204 }),
      'GET /api/page': () => ({ body: '<p>hi</p>', headers: { 'content-type': 'text/html' } }),
      'GET /api/empty': () => ({ headers: { 'content-type': 'application/json' } }),
    }
    const { c } = client()
    expect(await c.delete('n/1')).toBeUndefined()
    expect(await c.get('page')).toBe('<p>hi</p>')
    expect(await c.get('empty')).toBeUndefined()
  })

  it('sends FormData, URLSearchParams and strings as they are', async () => {
    be.routes = { 'POST /api/up': (r) => ({ json: { type: r.headers['content-type'], body: r.body } }) }
    const { c } = client()
    const fd = new FormData()
    fd.append('name', 'x')
    const a = await c.post<{ type: string; body: string }>('up', fd)
    expect(a.type).toMatch(/^multipart\/form-data; boundary=/)
    expect(a.body).toContain('name="name"')
    const b = await c.post<{ type: string; body: string }>('up', new URLSearchParams({ q: '1' }))
    expect([b.type, b.body]).toEqual(['application/x-www-form-urlencoded;charset=UTF-8', 'q=1'])
    const s = await c.post<{ type: string; body: string }>('up', 'raw', { headers: { 'content-type': 'text/plain' } })
    expect([s.type, s.body]).toEqual(['text/plain', 'raw'])
  })

  it('refuses a body it cannot send', async () => {
    await expect(client().c.post('x', new Map() as never)).rejects.toThrow(/body: expected/)
  })
})

describe('errors', () => {
  it('ApiError carries status, body, message and code of a {success,message} body', async () => {
    be.routes = { 'GET /api/admin/stats': () => ({ status: 403, json: { success: false, message: 'This action is unauthorized.', code: 'forbidden' } }) }
    const err = (await client().c.get('admin/stats').catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(403)
    expect(err.code).toBe('forbidden')
    expect(err.serverMessage).toBe('This action is unauthorized.')
    expect(err.message).toBe('GET admin/stats: This action is unauthorized.')
    expect(err.body).toEqual({ success: false, message: 'This action is unauthorized.', code: 'forbidden' })
  })

  it('a 422 carries the field errors; an HTML 500 its text', async () => {
    be.routes = {
      'POST /api/reg': () => ({ status: 422, json: { message: 'Invalid.', errors: { email: ['taken'], name: 'required' } } }),
      'GET /api/boom': () => ({ status: 500, body: '<h1>oops</h1>', headers: { 'content-type': 'text/html' } }),
    }
    const { c } = client()
    const v = (await c.post('reg', {}).catch((e: unknown) => e)) as ApiError
    expect(v.errors).toEqual({ email: ['taken'], name: ['required'] })
    const h = (await c.get('boom').catch((e: unknown) => e)) as ApiError
    expect([h.status, h.body, h.message]).toEqual([500, '<h1>oops</h1>', 'GET boom: HTTP 500'])
  })

  it('a 2xx that is not the JSON it says is an ApiError', async () => {
    be.routes = { 'GET /api/bad': () => ({ body: '{nope', headers: { 'content-type': 'application/json' } }) }
    await expect(client().c.get('bad')).rejects.toMatchObject({ name: 'ApiError', status: 200, body: '{nope' })
  })

  it('a refused connection is a NetworkError', async () => {
    const port = await closedPort()
    const err = await createApiClient({ baseURL: `http://127.0.0.1:${port}/`, token: 't' }).get('x').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetworkError)
    expect(err).not.toBeInstanceOf(TimeoutError)
  })

  it('an answer slower than the timeout is a TimeoutError; a call can change the timeout', async () => {
    const release = deferred<void>()
    be.routes = {
      'GET /api/slow': async () => {
        await release.promise
        return { json: {} }
      },
    }
    const { c } = client({ timeout: 30_000 })
    const err = await c.get('slow', { timeout: 50 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeoutError)
    expect((err as TimeoutError).timeout).toBe(50)
    const err2 = await client({ timeout: 40 }).c.get('slow').catch((e: unknown) => e)
    expect(err2).toBeInstanceOf(TimeoutError)
    release.resolve()
  })

  it('the caller’s abort rejects with its reason, not a TimeoutError', async () => {
    const release = deferred<void>()
    be.routes = {
      'POST /api/slow': async () => {
        await release.promise
        return { json: {} }
      },
    }
    const ac = new AbortController()
    const p = client().c.post('slow', {}, { signal: ac.signal }).catch((e: unknown) => e)
    await vi.waitFor(() => expect(be.calls('POST /api/slow')).toHaveLength(1))
    ac.abort(new Error('user left'))
    expect(await p).toEqual(new Error('user left'))
    release.resolve()
  })
})

describe('retries', () => {
  const flaky = (fails: number, status = 503, headers: Record<string, string> = {}) => (_: unknown, n: number) =>
    n <= fails ? { status, json: { success: false, message: 'busy' }, headers } : { json: { success: true, n } }

  it('retries an idempotent call with exponential backoff', async () => {
    be.routes = { 'GET /api/r': flaky(2) }
    const { c, waits, retries } = client({ retry: { attempts: 3, baseDelay: 100 } })
    expect(await c.get('r')).toEqual({ success: true, n: 3 })
    expect(waits).toEqual([100, 200])
    expect(retries.map((r) => [r.attempt, r.reason])).toEqual([
      [1, 'status 503'],
      [2, 'status 503'],
    ])
  })

  it('spreads the delays with jitter and caps them at maxDelay', async () => {
    be.routes = { 'GET /api/r': flaky(3) }
    const rnd = [0, 1, 0.5]
    const { c, waits } = client({ retry: { attempts: 4, baseDelay: 100, maxDelay: 300, jitter: 0.5 }, random: () => rnd.shift() ?? 0.5 })
    await c.get('r')
    expect(waits).toEqual([50, 300, 300]) // 100*0.5, min(200*1.5, 300), min(400, 300)
  })

  for (const method of ['PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
    it(`retries ${method}`, async () => {
      be.routes = { [`${method} /api/r`]: flaky(1) }
      await client({ retry: true }).c.request(method, 'r')
      expect(be.calls(`${method} /api/r`)).toHaveLength(2)
    })
  }

  for (const method of ['POST', 'PATCH']) {
    it(`never retries ${method}`, async () => {
      be.routes = { [`${method} /api/r`]: flaky(1) }
      await expect(client({ retry: { attempts: 5 } }).c.request(method, 'r', { body: {} })).rejects.toMatchObject({ status: 503 })
      expect(be.calls(`${method} /api/r`)).toHaveLength(1)
    })
  }

  it('a spoofed PUT (sent as POST) is still retried', async () => {
    be.routes = { 'POST /api/r': flaky(1) }
    await client({ retry: true, methodSpoofing: true }).c.put('r', {})
    expect(be.calls('POST /api/r')).toHaveLength(2)
  })

  it('honours Retry-After in seconds', async () => {
    be.routes = { 'GET /api/r': flaky(1, 429, { 'Retry-After': '2' }) }
    const { c, waits, retries } = client({ retry: { baseDelay: 10 } })
    await c.get('r')
    expect(waits).toEqual([2000])
    expect(retries[0]?.reason).toBe('status 429, Retry-After')
  })

  it('honours Retry-After as an HTTP date', async () => {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0)
    be.routes = { 'GET /api/r': flaky(1, 503, { 'Retry-After': new Date(now + 3000).toUTCString() }) }
    const { c, waits } = client({ retry: true, now: () => now })
    await c.get('r')
    expect(waits).toEqual([3000])
  })

  it('a date in the past means now', async () => {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0)
    be.routes = { 'GET /api/r': flaky(1, 503, { 'Retry-After': new Date(now - 3000).toUTCString() }) }
    const { c, waits } = client({ retry: true, now: () => now })
    await c.get('r')
    expect(waits).toEqual([0])
  })

  it('a Retry-After longer than maxDelay ends the retries', async () => {
    be.routes = { 'GET /api/r': flaky(1, 429, { 'Retry-After': '120' }) }
    const { c, waits } = client({ retry: { maxDelay: 10_000 } })
    await expect(c.get('r')).rejects.toMatchObject({ status: 429 })
    expect(waits).toEqual([])
    expect(be.calls('GET /api/r')).toHaveLength(1)
  })

  it('gives the last answer once the attempts are spent', async () => {
    be.routes = { 'GET /api/r': flaky(9) }
    await expect(client({ retry: { attempts: 3 } }).c.get('r')).rejects.toMatchObject({ status: 503, serverMessage: 'busy' })
    expect(be.calls('GET /api/r')).toHaveLength(3)
  })

  it('does not retry statuses outside retryOn', async () => {
    be.routes = { 'GET /api/r': flaky(1, 404) }
    await expect(client({ retry: true }).c.get('r')).rejects.toMatchObject({ status: 404 })
    expect(be.calls('GET /api/r')).toHaveLength(1)
  })

  it('retries network errors unless told not to', async () => {
    be.routes = { 'GET /api/r': (_, n) => (n === 1 ? { destroy: true } : { json: { ok: true } }) }
    expect(await client({ retry: true }).c.get('r')).toEqual({ ok: true })
    be.requests.length = 0
    await expect(client({ retry: { networkErrors: false } }).c.get('r')).rejects.toBeInstanceOf(NetworkError)
  })

  it('retries a timeout when 408 is in retryOn', async () => {
    const release = deferred<void>()
    be.routes = {
      'GET /api/r': async (_, n) => {
        if (n === 1) await release.promise
        return { json: { n } }
      },
    }
    expect(await client({ retry: true, timeout: 50 }).c.get('r')).toEqual({ n: 2 })
    release.resolve()
  })

  it('is off by default; a call’s retry object turns it on', async () => {
    be.routes = { 'GET /api/r': flaky(1) }
    const { c } = client()
    await expect(c.get('r')).rejects.toMatchObject({ status: 503 })
    be.requests.length = 0
    expect(await c.get('r', { retry: { attempts: 2 } })).toMatchObject({ success: true })
  })

  it('a call can turn retries off', async () => {
    be.routes = { 'GET /api/r': flaky(1) }
    await expect(client({ retry: true }).c.get('r', { retry: false })).rejects.toMatchObject({ status: 503 })
  })

  it('refuses nonsense settings', () => {
    expect(() => client({ retry: { attempts: 0 } })).toThrow(/retry.attempts/)
    expect(() => client({ retry: { jitter: 2 } })).toThrow(/retry.jitter/)
  })

  it('the caller’s abort stops the wait between attempts', async () => {
    be.routes = { 'GET /api/r': flaky(9) }
    const ac = new AbortController()
    const c = createApiClient({
      baseURL: `${be.url}/api/`,
      req: aliceReq,
      retry: true,
      dedupe: false,
      sleep: (_, signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason))
          ac.abort(new Error('gone'))
        }),
    })
    await expect(c.get('r', { signal: ac.signal })).rejects.toThrow('gone')
    expect(be.calls('GET /api/r')).toHaveLength(1)
  })
})

describe('de-duplication', () => {
  /** gate holds GET /api/feed until released, counting arrivals. */
  function gate() {
    const release = deferred<void>()
    be.routes = {
      'GET /api/feed': async (r) => {
        await release.promise
        return { json: { data: { who: r.headers.authorization, items: [1] } } }
      },
    }
    return release
  }

  it('identical concurrent GETs of one user make one call; each gets its own copy', async () => {
    const release = gate()
    const { c } = client()
    const a = c.get<{ data: { items: number[] } }>('feed')
    const b = c.get<{ data: { items: number[] } }>('feed')
    await vi.waitFor(() => expect(be.calls('GET /api/feed')).toHaveLength(1))
    release.resolve()
    const [ra, rb] = await Promise.all([a, b])
    expect(be.calls('GET /api/feed')).toHaveLength(1)
    ra.data.items.push(2)
    expect(rb.data.items).toEqual([1])
  })

  const differ: { name: string; second: Parameters<ReturnType<typeof createApiClient>['get']>[1] }[] = [
    { name: 'another user (token)', second: { req: bobReq } },
    { name: 'another locale', second: { locale: 'en' } },
    { name: 'another header', second: { headers: { 'x-v': '2' } } },
    { name: 'dedupe: false', second: { dedupe: false } },
  ]
  for (const row of differ) {
    it(`${row.name}: two calls`, async () => {
      const release = gate()
      const { c } = client()
      const a = c.get<{ data: { who: string } }>('feed')
      const b = c.get<{ data: { who: string } }>('feed', row.second)
      await vi.waitFor(() => expect(be.calls('GET /api/feed')).toHaveLength(2))
      release.resolve()
      const [ra, rb] = await Promise.all([a, b])
      expect(ra.data.who).toBe('Bearer tok-alice')
      if (row.name.startsWith('another user')) expect(rb.data.who).toBe('Bearer tok-bob')
    })
  }

  it('POSTs are never shared', async () => {
    be.routes = { 'POST /api/feed': ok() }
    const { c } = client()
    await Promise.all([c.post('feed'), c.post('feed')])
    expect(be.calls('POST /api/feed')).toHaveLength(2)
  })

  it('a waiter that leaves does not cancel the others', async () => {
    const release = gate()
    const { c } = client()
    const ac = new AbortController()
    const a = c.get('feed', { signal: ac.signal }).catch((e: unknown) => e)
    const b = c.get<{ data: { items: number[] } }>('feed')
    await vi.waitFor(() => expect(be.calls('GET /api/feed')).toHaveLength(1))
    ac.abort(new Error('a left'))
    expect(await a).toEqual(new Error('a left'))
    release.resolve()
    expect((await b).data.items).toEqual([1])
    expect(be.calls('GET /api/feed')[0]?.aborted).toBe(false)
  })

  it('the shared call is cancelled when the last waiter leaves', async () => {
    const release = gate()
    const { c } = client()
    const a1 = new AbortController()
    const a2 = new AbortController()
    const a = c.get('feed', { signal: a1.signal }).catch((e: unknown) => e)
    const b = c.get('feed', { signal: a2.signal }).catch((e: unknown) => e)
    await vi.waitFor(() => expect(be.calls('GET /api/feed')).toHaveLength(1))
    a1.abort(new Error('1'))
    a2.abort(new Error('2'))
    expect([await a, await b]).toEqual([new Error('1'), new Error('2')])
    await vi.waitFor(() => expect(be.calls('GET /api/feed')[0]?.aborted).toBe(true))
    release.resolve()
    // A new call starts afresh.
    await c.get('feed')
    expect(be.calls('GET /api/feed')).toHaveLength(2)
  })

  it('a shared failure reaches every waiter', async () => {
    const release = deferred<void>()
    be.routes = {
      'GET /api/feed': async () => {
        await release.promise
        return { status: 500, json: { success: false, message: 'down' } }
      },
    }
    const { c } = client()
    const a = c.get('feed').catch((e: unknown) => e)
    const b = c.get('feed').catch((e: unknown) => e)
    await vi.waitFor(() => expect(be.calls('GET /api/feed')).toHaveLength(1))
    release.resolve()
    for (const e of [await a, await b]) expect(e).toMatchObject({ status: 500, serverMessage: 'down' })
    expect(be.calls('GET /api/feed')).toHaveLength(1)
  })
})

describe('method spoofing', () => {
  const echo = (r: { method: string; headers: Record<string, unknown>; body: string }) => ({
    json: { method: r.method, override: r.headers['x-http-method-override'] ?? null, type: r.headers['content-type'] ?? null, body: r.body },
  })
  const routes = () => {
    be.routes = { 'POST /api/n/1': echo, 'PUT /api/n/1': echo, 'PATCH /api/n/1': echo, 'DELETE /api/n/1': echo }
  }

  it('body strategy: a JSON object gets _method, sent as POST', async () => {
    routes()
    const got = await client({ methodSpoofing: true }).c.put('n/1', { title: 't' })
    expect(got).toEqual({ method: 'POST', override: null, type: 'application/json', body: '{"title":"t","_method":"PUT"}' })
  })

  it('body strategy without a body sends {"_method": …}', async () => {
    routes()
    expect(await client({ methodSpoofing: true }).c.delete('n/1')).toMatchObject({ method: 'POST', body: '{"_method":"DELETE"}' })
  })

  it('body strategy with FormData adds the field and leaves the caller’s FormData alone', async () => {
    routes()
    const fd = new FormData()
    fd.append('title', 't')
    const got = (await client({ methodSpoofing: { fieldName: '_verb' } }).c.patch('n/1', fd)) as { body: string; method: string }
    expect(got.method).toBe('POST')
    expect(got.body).toContain('name="_verb"\r\n\r\nPATCH')
    expect([...fd.keys()]).toEqual(['title'])
  })

  it('a JSON array cannot carry the field: the header says the method', async () => {
    routes()
    expect(await client({ methodSpoofing: true }).c.put('n/1', [1])).toMatchObject({ method: 'POST', override: 'PUT', body: '[1]' })
  })

  it('header strategy', async () => {
    routes()
    expect(await client({ methodSpoofing: { strategy: 'header' } }).c.put('n/1', { a: 1 })).toMatchObject({
      method: 'POST',
      override: 'PUT',
      body: '{"a":1}',
    })
  })

  it('per call on or off; POST and GET are never spoofed', async () => {
    routes()
    be.routes['GET /api/n/1'] = echo
    expect(await client({ methodSpoofing: true }).c.put('n/1', {}, { methodSpoofing: false })).toMatchObject({ method: 'PUT' })
    expect(await client().c.put('n/1', {}, { methodSpoofing: true })).toMatchObject({ method: 'POST', body: '{"_method":"PUT"}' })
    expect(await client({ methodSpoofing: true }).c.post('n/1', { a: 1 })).toMatchObject({ method: 'POST', body: '{"a":1}' })
    expect(await client({ methodSpoofing: true }).c.get('n/1')).toMatchObject({ method: 'GET', override: null })
  })
})

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as { port: number }
  await new Promise((r) => s.close(r))
  return port
}
