import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { apiFetch, createApiFetch, getCsrfToken, readCookie } from '../src'
import { registerRevalidator } from '../src/apiFetch'
import { clearCookies, routeFetchTo, startGateway, type FakeGateway } from './server'

let gw: FakeGateway
let restore: () => void
beforeAll(async () => {
  gw = await startGateway({})
  restore = routeFetchTo(gw.url)
})
afterAll(async () => {
  restore()
  await gw.close()
})
afterEach(() => {
  clearCookies()
  gw.requests.length = 0
  gw.routes = {}
})

const echo = () => ({ json: { success: true } })

describe('readCookie', () => {
  it('reads and decodes a cookie among others', () => {
    document.cookie = 'a=1; path=/'
    document.cookie = '__csrf=abc%2Edef; path=/'
    expect(readCookie('__csrf')).toBe('abc.def')
    expect(readCookie('a')).toBe('1')
    expect(readCookie('missing')).toBeNull()
  })
})

describe('apiFetch', () => {
  it('adds the CSRF header from the cookie to unsafe methods and sends credentials', async () => {
    document.cookie = '__csrf=tok.123; path=/'
    gw.routes = { 'POST /api/echo': echo, 'GET /api/posts': echo }
    const spy = vi.spyOn(globalThis, 'fetch')
    await apiFetch('/api/echo', { method: 'post', body: '{}' })
    await apiFetch('/api/posts')
    expect(gw.calls('POST /api/echo')[0]?.headers['x-csrf-token']).toBe('tok.123')
    expect(gw.calls('GET /api/posts')[0]?.headers['x-csrf-token']).toBeUndefined()
    expect(spy.mock.calls.map((c) => c[1]?.credentials)).toEqual(['include', 'include'])
  })

  it('asks the csrf endpoint when the cookie is missing', async () => {
    gw.routes = {
      'GET /api/auth/csrf': () => ({ json: { success: true, data: { token: 'fresh.1' } } }),
      'DELETE /api/posts/1': echo,
    }
    await apiFetch('/api/posts/1', { method: 'DELETE' })
    expect(gw.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/auth/csrf', 'DELETE /api/posts/1'])
    expect(gw.calls('DELETE /api/posts/1')[0]?.headers['x-csrf-token']).toBe('fresh.1')
  })

  it('sends no header when no token can be had', async () => {
    gw.routes = { 'GET /api/auth/csrf': () => ({ status: 404, json: { success: false } }), 'POST /api/echo': echo }
    const res = await apiFetch('/api/echo', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(gw.calls('POST /api/echo')[0]?.headers['x-csrf-token']).toBeUndefined()
  })

  it('keeps a header the caller set', async () => {
    document.cookie = '__csrf=cookie; path=/'
    gw.routes = { 'PUT /api/echo': echo }
    await apiFetch('/api/echo', { method: 'PUT', headers: { 'X-CSRF-Token': 'mine' } })
    expect(gw.calls('PUT /api/echo')[0]?.headers['x-csrf-token']).toBe('mine')
  })

  it('takes the method and headers of a Request', async () => {
    document.cookie = '__csrf=req; path=/'
    gw.routes = { 'PATCH /api/echo': echo }
    await apiFetch(new Request(`${gw.url}/api/echo`, { method: 'PATCH', headers: { 'x-extra': '1' } }))
    const got = gw.calls('PATCH /api/echo')[0]
    expect(got?.headers['x-csrf-token']).toBe('req')
    expect(got?.headers['x-extra']).toBe('1')
  })

  it('uses custom cookie, header, endpoint and safe methods', async () => {
    document.cookie = 'other=nope; path=/'
    gw.routes = {
      'GET /csrf-here': () => ({ json: { data: { token: 'custom' } } }),
      'POST /api/echo': echo,
      'DELETE /api/echo': echo,
    }
    const f = createApiFetch({ csrfCookieName: 'xsrf', csrfHeaderName: 'x-xsrf', csrfEndpoint: '/csrf-here', safeMethods: ['get', 'delete'] })
    await f('/api/echo', { method: 'POST' })
    await f('/api/echo', { method: 'DELETE' })
    expect(gw.calls('POST /api/echo')[0]?.headers['x-xsrf']).toBe('custom')
    expect(gw.calls('DELETE /api/echo')[0]?.headers['x-xsrf']).toBeUndefined()
    document.cookie = 'xsrf=from-cookie; path=/'
    await f('/api/echo', { method: 'POST' })
    expect(gw.calls('POST /api/echo')[1]?.headers['x-xsrf']).toBe('from-cookie')
  })

  it('retries once with a fresh token after a CSRF refusal', async () => {
    document.cookie = '__csrf=stale; path=/'
    gw.routes = {
      'GET /api/auth/csrf': () => ({ json: { success: true, data: { token: 'renewed' } } }),
      'POST /api/echo': (req) =>
        req.headers['x-csrf-token'] === 'renewed'
          ? { json: { success: true } }
          : { status: 403, json: { success: false, message: 'CSRF validation failed.' } },
    }
    const res = await apiFetch('/api/echo', { method: 'POST', body: '{"a":1}' })
    expect(res.status).toBe(200)
    const posts = gw.calls('POST /api/echo')
    expect(posts.map((p) => p.headers['x-csrf-token'])).toEqual(['stale', 'renewed'])
    expect(posts[1]?.body).toBe('{"a":1}')
  })

  it('recognises a CSRF refusal by its code, whatever the sentence', async () => {
    document.cookie = '__csrf=stale; path=/'
    gw.routes = {
      'GET /api/auth/csrf': () => ({ json: { success: true, data: { token: 'renewed' } } }),
      'POST /api/echo': (req) =>
        req.headers['x-csrf-token'] === 'renewed'
          ? { json: { success: true } }
          : { status: 403, json: { success: false, message: 'Jeton CSRF refusé.', code: 'csrf' } },
    }
    const res = await apiFetch('/api/echo', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(gw.calls('POST /api/echo').map((p) => p.headers['x-csrf-token'])).toEqual(['stale', 'renewed'])
  })

  it('does not retry other 403s', async () => {
    document.cookie = '__csrf=ok; path=/'
    gw.routes = { 'POST /api/echo': () => ({ status: 403, json: { success: false, message: 'You are not authorized for this action.' } }) }
    const res = await apiFetch('/api/echo', { method: 'POST' })
    expect(res.status).toBe(403)
    expect(gw.calls('POST /api/echo')).toHaveLength(1)
  })

  it('calls onUnauthorized on a 401', async () => {
    gw.routes = { 'GET /api/posts': () => ({ status: 401, json: { success: false, message: 'Token not found.' } }) }
    const onUnauthorized = vi.fn()
    const res = await createApiFetch({ onUnauthorized })('/api/posts')
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ success: false, message: 'Token not found.' })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
  })

  it('revalidates every registered provider on a 401 by default', async () => {
    gw.routes = { 'GET /api/posts': (_, n) => (n === 1 ? { status: 401, json: {} } : { json: {} }) }
    const a = vi.fn()
    const b = vi.fn(async () => {
      throw new Error('ignored')
    })
    const offA = registerRevalidator(a)
    const offB = registerRevalidator(b)
    await apiFetch('/api/posts')
    offA()
    await apiFetch('/api/posts')
    offB()
    expect(a).toHaveBeenCalledTimes(1)
    expect(b).toHaveBeenCalledTimes(1)
  })
})

describe('getCsrfToken', () => {
  it('prefers the cookie unless forced', async () => {
    document.cookie = '__csrf=c1; path=/'
    gw.routes = { 'GET /api/auth/csrf': () => ({ json: { success: true, data: { token: 'e1' } } }) }
    expect(await getCsrfToken()).toBe('c1')
    expect(await getCsrfToken({}, true)).toBe('e1')
  })
  it('returns null when the endpoint cannot be reached or answers no token', async () => {
    gw.routes = { 'GET /api/auth/csrf': () => ({ body: 'not json' }) }
    expect(await getCsrfToken()).toBeNull()
    expect(await getCsrfToken({ csrfEndpoint: 'http://127.0.0.1:1/csrf' })).toBeNull()
  })
})
