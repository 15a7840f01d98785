import { act, waitFor } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { defaultParseResponse } from '../src'
import { renderAuth } from './render'
import { alice, clearCookies, guest, routeFetchTo, startGateway, type FakeGateway, type Routes } from './server'

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

const me = (user: unknown): Routes[string] => () =>
  user ? { json: { success: true, data: user } } : { status: 401, json: { success: false, message: 'Not authenticated.' } }

describe('AuthProvider: loading the user', () => {
  it('fetches GET /api/auth/me on mount with credentials', async () => {
    gw.routes = { 'GET /api/auth/me': me(alice) }
    const r = renderAuth()
    expect(r.state().isLoading).toBe(true)
    await waitFor(() => expect(r.state()).toMatchObject({ name: 'Alice', isAuthenticated: true, isGuest: false, isLoading: false }))
    expect(gw.calls('GET /api/auth/me')[0]?.headers.accept).toBe('application/json')
  })

  it('treats a 401 as no user', async () => {
    gw.routes = { 'GET /api/auth/me': me(null) }
    const r = renderAuth()
    await waitFor(() => expect(r.state()).toMatchObject({ name: null, isAuthenticated: false, isLoading: false, error: null }))
  })

  it('reports other failures through error and onError', async () => {
    gw.routes = { 'GET /api/auth/me': () => ({ status: 503, json: { success: false } }) }
    const onError = vi.fn()
    const r = renderAuth({ onError })
    await waitFor(() => expect(r.state().error).toBe('Failed to fetch user (HTTP 503)'))
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'Failed to fetch user (HTTP 503)' }))
  })

  it('uses initialUser without fetching', async () => {
    gw.routes = { 'GET /api/auth/me': me(alice) }
    const r = renderAuth({ initialUser: { id: 9, name: 'Server' } })
    expect(r.state()).toMatchObject({ name: 'Server', isAuthenticated: true, isLoading: false })
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 0))
    })
    expect(gw.calls('GET /api/auth/me')).toHaveLength(0)
  })

  it('fetches on mount when initialUser is null', async () => {
    gw.routes = { 'GET /api/auth/me': me(alice) }
    const r = renderAuth({ initialUser: null })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
  })

  it('recognises guests, or whoever isGuestFn says', async () => {
    gw.routes = { 'GET /api/auth/me': me(guest) }
    const r = renderAuth()
    await waitFor(() => expect(r.state()).toMatchObject({ name: 'Guest', isGuest: true, isAuthenticated: false }))
    r.unmount()
    const custom = renderAuth({ initialUser: { id: 1, name: 'Anon', anonymous: true }, isGuestFn: (u) => !!u?.anonymous })
    expect(custom.state()).toMatchObject({ isGuest: true, isAuthenticated: false })
  })

  it('honours userEndpoint and parseResponse', async () => {
    gw.routes = { 'GET /custom/me': () => ({ json: { profile: { name: 'Custom' } } }) }
    const parseResponse = vi.fn((json: unknown) => (json as { profile: { name: string } }).profile)
    const r = renderAuth({ userEndpoint: '/custom/me', parseResponse })
    await waitFor(() => expect(r.state().name).toBe('Custom'))
    expect(parseResponse).toHaveBeenCalledWith({ profile: { name: 'Custom' } })
  })

  it('passes swrConfig to SWR', async () => {
    gw.routes = { 'GET /api/auth/me': me(alice) }
    const r = renderAuth({ swrConfig: { revalidateOnMount: false, fallbackData: { name: 'Fallback' } } })
    expect(r.state().name).toBe('Fallback')
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 0))
    })
    expect(gw.calls('GET /api/auth/me')).toHaveLength(0)
  })

  it('refresh and mutate fetch the user again', async () => {
    let user: unknown = alice
    gw.routes = { 'GET /api/auth/me': () => ({ json: { success: true, data: user } }) }
    const r = renderAuth()
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    user = { ...alice, name: 'Alice 2' }
    await act(() => r.ctx().refresh())
    expect(r.state().name).toBe('Alice 2')
    user = { ...alice, name: 'Alice 3' }
    await act(() => r.ctx().mutate())
    expect(r.state().name).toBe('Alice 3')
    expect(r.ctx().mutate).toBe(r.ctx().refresh)
  })

  it("its apiFetch sends the provider's CSRF settings and revalidates on a 401", async () => {
    let user: unknown = alice
    document.cookie = 'my-csrf=abc; path=/'
    gw.routes = {
      'GET /api/auth/me': () => (user ? { json: { success: true, data: user } } : { status: 401, json: {} }),
      'POST /api/echo': () => ({ status: 401, json: { success: false, message: 'Session expired.' } }),
    }
    const r = renderAuth({ csrfCookieName: 'my-csrf', csrfHeaderName: 'x-my-csrf' })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    user = null
    await act(async () => {
      await r.ctx().apiFetch('/api/echo', { method: 'POST' })
    })
    expect(gw.calls('POST /api/echo')[0]?.headers['x-my-csrf']).toBe('abc')
    await waitFor(() => expect(r.state()).toMatchObject({ name: null, isAuthenticated: false }))
  })
})

describe('AuthProvider: login and register', () => {
  it('posts JSON with the CSRF header and takes the user from the answer', async () => {
    document.cookie = '__csrf=t1; path=/'
    gw.routes = {
      'GET /api/auth/me': me(guest),
      'POST /api/auth/login': () => ({ json: { success: true, message: 'Welcome', data: { ...alice, accessToken: 'secret' } } }),
    }
    const onLogin = vi.fn()
    const r = renderAuth({ onLogin })
    await waitFor(() => expect(r.state().isGuest).toBe(true))
    let result: Awaited<ReturnType<ReturnType<typeof r.ctx>['login']>> | undefined
    await act(async () => {
      result = await r.ctx().login({ username: 'alice', password: 'pw' })
    })
    const post = gw.calls('POST /api/auth/login')[0]
    expect(JSON.parse(post?.body ?? '')).toEqual({ username: 'alice', password: 'pw' })
    expect(post?.headers['content-type']).toBe('application/json')
    expect(post?.headers['x-csrf-token']).toBe('t1')
    expect(result).toEqual({ success: true, user: alice, message: 'Welcome' })
    expect(result?.user).not.toHaveProperty('accessToken')
    expect(onLogin).toHaveBeenCalledWith(alice)
    expect(r.state()).toMatchObject({ name: 'Alice', isAuthenticated: true })
    expect(gw.calls('GET /api/auth/me')).toHaveLength(1) // no refetch: the answer had the user
  })

  it('never takes a token payload for the user: it asks /me instead', async () => {
    gw.routes = {
      'GET /api/auth/me': (_, n) => (n === 1 ? me(guest)(_, n) : me(alice)(_, n)),
      'POST /api/auth/login': () => ({ json: { success: true, data: { token: 'eyJhbGciOi…' } } }),
    }
    const onLogin = vi.fn()
    const r = renderAuth({ onLogin })
    await waitFor(() => expect(r.state().isGuest).toBe(true))
    let result: unknown
    await act(async () => {
      result = await r.ctx().login({ username: 'alice', password: 'pw' })
    })
    expect(result).toEqual({ success: true, user: alice, message: undefined })
    expect(onLogin).toHaveBeenCalledWith(alice)
    expect(r.state().name).toBe('Alice')
    expect(JSON.stringify(r.ctx().user)).not.toContain('eyJ')
  })

  it('gets a CSRF token from csrfEndpoint when the cookie is missing', async () => {
    gw.routes = {
      'GET /api/auth/me': me(null),
      'GET /my/csrf': () => ({ json: { success: true, data: { token: 'from-endpoint' } } }),
      'POST /api/auth/login': () => ({ json: { success: true, data: alice } }),
    }
    const r = renderAuth({ csrfEndpoint: '/my/csrf' })
    await act(async () => {
      await r.ctx().login({ username: 'alice', password: 'pw' })
    })
    expect(gw.calls('POST /api/auth/login')[0]?.headers['x-csrf-token']).toBe('from-endpoint')
  })

  it('returns the message and validation errors of a refusal', async () => {
    gw.routes = {
      'GET /api/auth/me': me(null),
      'POST /api/auth/login': () => ({
        status: 422,
        json: { success: false, message: 'The given data was invalid.', errors: { password: ['The password field is required.'] } },
      }),
    }
    const onLogin = vi.fn()
    const r = renderAuth({ onLogin })
    let result: unknown
    await act(async () => {
      result = await r.ctx().login({ username: 'alice' })
    })
    expect(result).toEqual({
      success: false,
      message: 'The given data was invalid.',
      errors: { password: ['The password field is required.'] },
    })
    expect(onLogin).not.toHaveBeenCalled()
  })

  it('falls back to "Login failed" with the status', async () => {
    gw.routes = { 'GET /api/auth/me': me(null), 'POST /api/auth/login': () => ({ status: 502, body: '<html>' }) }
    const r = renderAuth()
    let result: unknown
    await act(async () => {
      result = await r.ctx().login({})
    })
    expect(result).toEqual({ success: false, message: 'Login failed (HTTP 502)', errors: undefined })
  })

  it('treats success:false in a 200 as a failure', async () => {
    gw.routes = { 'GET /api/auth/me': me(null), 'POST /api/auth/login': () => ({ json: { success: false } }) }
    const r = renderAuth()
    let result: unknown
    await act(async () => {
      result = await r.ctx().login({})
    })
    expect(result).toEqual({ success: false, message: 'Login failed', errors: undefined })
  })

  it('reports network errors through onError', async () => {
    gw.routes = { 'GET /api/auth/me': me(null) }
    const onError = vi.fn()
    const r = renderAuth({ onError, loginEndpoint: 'http://127.0.0.1:1/login' })
    let result: { success: boolean; message?: string } | undefined
    await act(async () => {
      result = await r.ctx().login({})
    })
    expect(result?.success).toBe(false)
    expect(result?.message).toBeTruthy()
    expect(onError).toHaveBeenCalledTimes(1)
  })

  it('uses parseAuthResponse when given', async () => {
    gw.routes = {
      'GET /api/auth/me': me(null),
      'POST /login': () => ({ json: { ok: 1, who: { name: 'Parsed' } } }),
    }
    const parseAuthResponse = vi.fn((json: unknown, res: Response) => ({
      success: res.ok && (json as { ok: number }).ok === 1,
      user: (json as { who: { name: string } }).who,
      message: 'parsed',
    }))
    const r = renderAuth({ loginEndpoint: '/login', parseAuthResponse })
    let result: unknown
    await act(async () => {
      result = await r.ctx().login({ u: 1 })
    })
    expect(result).toEqual({ success: true, user: { name: 'Parsed' }, message: 'parsed' })
    expect(r.state().name).toBe('Parsed')
  })

  it('register posts to registerEndpoint with its own fallback message', async () => {
    gw.routes = {
      'GET /api/auth/me': me(null),
      'POST /api/auth/register': () => ({ json: { success: true, data: { id: 3, name: 'Neo' } } }),
      'POST /signup': () => ({ status: 409, json: {} }),
    }
    const r = renderAuth()
    let ok: unknown
    await act(async () => {
      ok = await r.ctx().register({ name: 'Neo', email: 'neo@example.com', password: 'password1' })
    })
    expect(ok).toMatchObject({ success: true, user: { id: 3, name: 'Neo' } })
    expect(JSON.parse(gw.calls('POST /api/auth/register')[0]?.body ?? '')).toMatchObject({ name: 'Neo' })
    r.unmount()
    const other = renderAuth({ registerEndpoint: '/signup' })
    let bad: unknown
    await act(async () => {
      bad = await other.ctx().register({})
    })
    expect(bad).toMatchObject({ success: false, message: 'Registration failed (HTTP 409)' })
  })
})

describe('AuthProvider: logout', () => {
  it('ends the session, shows the guest the gateway now sees, calls onLogout and navigates', async () => {
    let user: unknown = alice
    document.cookie = '__csrf=lo; path=/'
    gw.routes = {
      'GET /api/auth/me': () => ({ json: { success: true, data: user } }),
      'POST /api/auth/logout': () => {
        user = guest
        return { json: { success: true } }
      },
    }
    const onLogout = vi.fn()
    const navigate = vi.fn()
    const r = renderAuth({ onLogout, navigate, logoutRedirect: '/bye' })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    let result: unknown
    await act(async () => {
      result = await r.ctx().logout()
    })
    expect(result).toEqual({ success: true })
    expect(gw.calls('POST /api/auth/logout')[0]?.headers['x-csrf-token']).toBe('lo')
    expect(r.state()).toMatchObject({ name: 'Guest', isAuthenticated: false, isGuest: true })
    expect(onLogout).toHaveBeenCalledTimes(1)
    expect(navigate).toHaveBeenCalledWith('/bye')
  })

  it('reports failure and keeps the user when the server refuses', async () => {
    gw.routes = {
      'GET /api/auth/me': me(alice),
      'POST /api/auth/logout': () => ({ status: 500, json: { success: false, message: 'Server error.' } }),
    }
    const onLogout = vi.fn()
    const onError = vi.fn()
    const navigate = vi.fn()
    const r = renderAuth({ onLogout, onError, navigate, logoutRedirect: '/' })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    let result: unknown
    await act(async () => {
      result = await r.ctx().logout()
    })
    expect(result).toEqual({ success: false, message: 'Server error.' })
    expect(r.state()).toMatchObject({ name: 'Alice', isAuthenticated: true })
    expect(onLogout).not.toHaveBeenCalled()
    expect(navigate).not.toHaveBeenCalled()
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'Server error.' }))
  })

  it('reports failure when the server said yes but the session is still alive', async () => {
    gw.routes = { 'GET /api/auth/me': me(alice), 'POST /api/auth/logout': () => ({ json: { success: true } }) }
    const onLogout = vi.fn()
    const r = renderAuth({ onLogout })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    let result: unknown
    await act(async () => {
      result = await r.ctx().logout()
    })
    expect(result).toEqual({ success: false, message: 'Logout failed: the server did not end the session.' })
    expect(r.state().isAuthenticated).toBe(true)
    expect(onLogout).not.toHaveBeenCalled()
  })

  it('with verifyLogout false trusts a 2xx and shows nobody', async () => {
    gw.routes = { 'GET /api/auth/me': me(alice), 'POST /api/auth/logout': () => ({ status: 204 }) }
    const r = renderAuth({ verifyLogout: false, logoutEndpoint: '/api/auth/logout' })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    let result: unknown
    await act(async () => {
      result = await r.ctx().logout()
    })
    expect(result).toEqual({ success: true })
    expect(r.state()).toMatchObject({ name: null, isAuthenticated: false })
    expect(gw.calls('GET /api/auth/me')).toHaveLength(1)
  })

  it('reports a network failure without throwing', async () => {
    const onError = vi.fn()
    const r = renderAuth({ initialUser: alice, onError, logoutEndpoint: 'http://127.0.0.1:1/logout' })
    let result: { success: boolean } | undefined
    await act(async () => {
      result = await r.ctx().logout()
    })
    expect(result?.success).toBe(false)
    expect(onError).toHaveBeenCalledTimes(1)
    expect(r.state().name).toBe('Alice')
  })
})

describe('defaultParseResponse is the provider default', () => {
  it('is exported for custom parsers to build on', () => {
    expect(defaultParseResponse({ success: true, data: alice })).toEqual(alice)
  })
})
