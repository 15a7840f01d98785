// basePath, callback identity and the callbacks of committed renders only.
import { act, render, waitFor } from '@testing-library/react'
import { Suspense, memo, startTransition, useState, type ReactNode } from 'react'
import { SWRConfig } from 'swr'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { AuthProvider, createApiFetch, useAuth, useUser, type AuthContextValue, type AuthProviderProps, type AuthUser } from '../src'
import { renderAuth } from './render'
import { alice, clearCookies, routeFetchTo, startGateway, type FakeGateway } from './server'

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

const ok = (data?: unknown) => () => ({ json: data === undefined ? { success: true } : { success: true, data } })

describe('basePath', () => {
  it('every endpoint derives from it', async () => {
    gw.routes = {
      'GET /backend/auth/me': ok(alice),
      'GET /backend/auth/csrf': ok({ token: 'c1' }),
      'POST /backend/auth/login': ok(alice),
      'POST /backend/auth/register': ok(alice),
      'POST /backend/auth/logout': ok(),
    }
    const r = renderAuth({ basePath: '/backend', verifyLogout: false })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    await act(async () => {
      await r.ctx().login({ username: 'alice' })
      await r.ctx().register({ username: 'alice' })
      await r.ctx().logout()
    })
    expect(gw.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      'GET /backend/auth/me',
      'GET /backend/auth/csrf',
      'POST /backend/auth/login',
      'GET /backend/auth/csrf',
      'POST /backend/auth/register',
      'GET /backend/auth/csrf',
      'POST /backend/auth/logout',
    ])
    expect(gw.calls('POST /backend/auth/login')[0]?.headers['x-csrf-token']).toBe('c1')
  })

  it('a trailing slash is ignored and an explicit endpoint still wins', async () => {
    gw.routes = { 'GET /custom/me': ok(alice) }
    const r = renderAuth({ basePath: '/backend/', userEndpoint: '/custom/me' })
    await waitFor(() => expect(r.state().name).toBe('Alice'))
    expect(gw.requests.map((q) => q.path)).toEqual(['/custom/me'])
  })

  it('the provider’s apiFetch gets its CSRF token below basePath', async () => {
    gw.routes = { 'GET /backend/auth/csrf': ok({ token: 'c2' }), 'POST /backend/notes': ok() }
    const r = renderAuth({ basePath: '/backend', initialUser: alice })
    await act(async () => {
      await r.ctx().apiFetch('/backend/notes', { method: 'POST', body: '{}' })
    })
    expect(gw.calls('POST /backend/notes')[0]?.headers['x-csrf-token']).toBe('c2')
  })

  it('createApiFetch takes it too', async () => {
    gw.routes = { 'GET /backend/auth/csrf': ok({ token: 'c3' }), 'DELETE /backend/x': ok() }
    await createApiFetch({ basePath: '/backend' })('/backend/x', { method: 'DELETE' })
    expect(gw.calls('DELETE /backend/x')[0]?.headers['x-csrf-token']).toBe('c3')
  })
})

/** Tree renders a provider whose props the test can change. */
function tree(initial: Omit<AuthProviderProps, 'children'>, extra?: (props: Omit<AuthProviderProps, 'children'>) => ReactNode) {
  const seen: AuthContextValue[] = []
  let renders = 0
  let set: (p: Omit<AuthProviderProps, 'children'>) => void = () => undefined
  // memo: like a consumer deep in the tree, it re-renders only when the
  // context value changes.
  const Probe = memo(function Probe() {
    const v = useAuth()
    renders++
    if (seen[seen.length - 1] !== v) seen.push(v)
    return <output data-testid="name">{v.user?.name ?? 'nobody'}</output>
  })
  function Host() {
    const [props, setProps] = useState(initial)
    set = setProps
    return (
      <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
        <Suspense fallback={<p>loading</p>}>
          <AuthProvider {...props}>
            <Probe />
            {extra?.(props)}
          </AuthProvider>
        </Suspense>
      </SWRConfig>
    )
  }
  const result = render(<Host />)
  return { result, seen, renders: () => renders, set: (p: Omit<AuthProviderProps, 'children'>) => set(p) }
}

describe('callback identity', () => {
  it('inline isGuestFn, parseResponse and navigate do not re-create the flows or the context value', async () => {
    document.cookie = '__csrf=t; path=/'
    const props = (): Omit<AuthProviderProps, 'children'> => ({
      initialUser: alice,
      isGuestFn: (u) => u?.type === 'guest',
      parseResponse: (j) => (j as { data: AuthUser }).data,
      navigate: (to) => void to,
    })
    const t = tree(props())
    const first = t.seen[t.seen.length - 1]!
    const rendersBefore = t.renders()
    act(() => t.set(props()))
    const last = t.seen[t.seen.length - 1]!
    expect(last.login).toBe(first.login)
    expect(last.register).toBe(first.register)
    expect(last.logout).toBe(first.logout)
    expect(last).toBe(first)
    expect(t.renders()).toBe(rendersBefore) // the consumer did not re-render
  })

  it('the flows use the latest parseResponse and isGuestFn', async () => {
    document.cookie = '__csrf=t; path=/'
    gw.routes = { 'POST /api/auth/login': () => ({ json: { who: { id: 5, name: 'Parsed' } } }) }
    const onLogin = vi.fn()
    const t = tree({ initialUser: alice, onLogin })
    act(() =>
      t.set({
        initialUser: alice,
        onLogin,
        parseResponse: (j) => (j as { who: AuthUser }).who,
        isGuestFn: (u) => u?.name === 'Parsed', // so onLogin must not be called
      }),
    )
    let res: Awaited<ReturnType<AuthContextValue['login']>> | undefined
    await act(async () => {
      res = await t.seen[t.seen.length - 1]!.login({})
    })
    expect(res?.user).toEqual({ id: 5, name: 'Parsed' })
    expect(onLogin).not.toHaveBeenCalled()
  })
})

describe('callbacks come from committed renders only', () => {
  it('a render that React discards does not replace onLogin', async () => {
    document.cookie = '__csrf=t; path=/'
    gw.routes = { 'POST /api/auth/login': ok(alice) }
    const committed = vi.fn()
    const discarded = vi.fn()
    const never = new Promise<never>(() => undefined)
    function Suspends(): ReactNode {
      throw never
    }
    const t = tree({ initialUser: alice, onLogin: committed }, (p) => (p.onLogin === discarded ? <Suspends /> : null))
    // A transition whose render suspends forever is never committed: the
    // provider rendered with onLogin = discarded, but the screen did not change.
    await act(async () => {
      startTransition(() => t.set({ initialUser: alice, onLogin: discarded }))
    })
    expect(t.result.queryByText('loading')).toBeNull()
    await act(async () => {
      await t.seen[t.seen.length - 1]!.login({})
    })
    expect(committed).toHaveBeenCalledTimes(1)
    expect(discarded).not.toHaveBeenCalled()
  })
})

describe('a typed user', () => {
  interface Me {
    id: number
    name: string
    plan: 'free' | 'pro'
  }
  it('AuthProvider<TUser> and useAuth<TUser>() carry the app’s user type', async () => {
    let plan: 'free' | 'pro' | undefined
    let viaUser: string | undefined
    function Plan() {
      const { user } = useAuth<Me>()
      plan = user?.plan
      viaUser = useUser<Me>().user?.name
      return null
    }
    const me: Me = { id: 1, name: 'Typed', plan: 'pro' }
    render(
      <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
        <AuthProvider<Me> initialUser={me} onLogin={(u) => void u.plan} isGuestFn={(u) => u?.plan === undefined}>
          <Plan />
        </AuthProvider>
      </SWRConfig>,
    )
    expect(plan).toBe('pro')
    expect(viaUser).toBe('Typed')
  })
})
