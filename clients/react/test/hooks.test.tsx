import { act, render, renderHook, waitFor } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { SWRConfig } from 'swr'
import type { ReactNode } from 'react'
import { AuthProvider, useAuth, useRedirectIfAuth, useRequireAuth, useUser, type AuthProviderProps } from '../src'
import { alice, guest, routeFetchTo, startGateway, type FakeGateway } from './server'

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
  gw.requests.length = 0
  gw.routes = {}
})

type Who = 'user' | 'guest' | 'nobody' | 'down'
function serve(who: Who) {
  gw.routes = {
    'GET /api/auth/me': () => {
      switch (who) {
        case 'user':
          return { json: { success: true, data: alice } }
        case 'guest':
          return { json: { success: true, data: guest } }
        case 'nobody':
          return { status: 401, json: { success: false } }
        default:
          return { status: 503, json: { success: false } }
      }
    },
  }
}

function wrapper(props: Omit<AuthProviderProps, 'children'>) {
  return function Wrapper({ children }: { children: ReactNode }) {
    return (
      <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
        <AuthProvider {...props}>{children}</AuthProvider>
      </SWRConfig>
    )
  }
}

describe('useAuth', () => {
  it('throws outside an AuthProvider', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    function Lonely() {
      useAuth()
      return null
    }
    expect(() => render(<Lonely />)).toThrow(
      'useAuth must be used within an AuthProvider. Wrap your app with <AuthProvider> from @apilayer/react',
    )
  })
})

describe('useUser', () => {
  it('returns the user and what it is', async () => {
    serve('user')
    const { result } = renderHook(() => useUser(), { wrapper: wrapper({}) })
    await waitFor(() => expect(result.current.isLoading).toBe(false))
    expect(result.current).toEqual({ user: alice, isLoading: false, isAuthenticated: true, isGuest: false })
  })
})

// Each row mounts a hook for a visitor and says where it must navigate (null: nowhere).
const rows: { name: string; who: Who; hook: () => unknown; want: string | null }[] = [
  { name: 'require: anonymous goes to /login', who: 'nobody', hook: () => useRequireAuth(), want: '/login' },
  { name: 'require: guests are redirected too', who: 'guest', hook: () => useRequireAuth('/signin'), want: '/signin' },
  { name: 'require: allowGuests lets a guest stay', who: 'guest', hook: () => useRequireAuth('/signin', { allowGuests: true }), want: null },
  { name: 'require: a user stays', who: 'user', hook: () => useRequireAuth(), want: null },
  { name: 'require: an outage is not a logout', who: 'down', hook: () => useRequireAuth(), want: null },
  { name: 'redirect-if-auth: a user goes home', who: 'user', hook: () => useRedirectIfAuth(), want: '/' },
  { name: 'redirect-if-auth: custom target', who: 'user', hook: () => useRedirectIfAuth('/dashboard'), want: '/dashboard' },
  { name: 'redirect-if-auth: a guest stays by default', who: 'guest', hook: () => useRedirectIfAuth(), want: null },
  { name: 'redirect-if-auth: includeGuests sends guests too', who: 'guest', hook: () => useRedirectIfAuth('/x', { includeGuests: true }), want: '/x' },
  { name: 'redirect-if-auth: anonymous stays', who: 'nobody', hook: () => useRedirectIfAuth('/x', { includeGuests: true }), want: null },
  { name: 'useAuth options: redirectTo', who: 'nobody', hook: () => useAuth({ redirectTo: '/in' }), want: '/in' },
  { name: 'useAuth options: redirectIfFound', who: 'user', hook: () => useAuth({ redirectIfFound: '/out' }), want: '/out' },
]

describe('redirecting hooks', () => {
  for (const row of rows) {
    it(row.name, async () => {
      serve(row.who)
      const navigate = vi.fn()
      const { result } = renderHook(() => {
        row.hook()
        return useAuth()
      }, { wrapper: wrapper({ navigate }) })
      await waitFor(() => expect(result.current.isLoading).toBe(false))
      if (row.want) {
        await waitFor(() => expect(navigate).toHaveBeenCalledWith(row.want))
        expect(navigate).toHaveBeenCalledTimes(1)
      } else {
        expect(navigate).not.toHaveBeenCalled()
      }
    })
  }

  it('does not redirect while loading', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    gw.routes = {
      'GET /api/auth/me': async () => {
        await held
        return { status: 401, json: {} }
      },
    }
    const navigate = vi.fn()
    const { result } = renderHook(() => useRequireAuth(), { wrapper: wrapper({ navigate }) })
    await waitFor(() => expect(gw.calls('GET /api/auth/me')).toHaveLength(1))
    expect(result.current.isLoading).toBe(true)
    expect(navigate).not.toHaveBeenCalled()
    release()
    await waitFor(() => expect(navigate).toHaveBeenCalledWith('/login'))
  })

  it('does not race the logout redirect', async () => {
    let user: unknown = alice
    gw.routes = {
      'GET /api/auth/me': () => ({ json: { success: true, data: user } }),
      'POST /api/auth/logout': () => {
        user = guest
        return { json: { success: true } }
      },
    }
    const navigate = vi.fn()
    const { result } = renderHook(() => useRequireAuth(), { wrapper: wrapper({ navigate, logoutRedirect: '/' }) })
    await waitFor(() => expect(result.current.isAuthenticated).toBe(true))
    await act(async () => {
      await result.current.logout()
    })
    expect(result.current.isGuest).toBe(true)
    expect(result.current.isRedirecting).toBe(true)
    expect(navigate.mock.calls).toEqual([['/']])
  })

  it('a navigate option overrides the provider', async () => {
    serve('nobody')
    const fromProvider = vi.fn()
    const fromHook = vi.fn()
    renderHook(() => useRequireAuth('/login', { navigate: fromHook }), { wrapper: wrapper({ navigate: fromProvider }) })
    await waitFor(() => expect(fromHook).toHaveBeenCalledWith('/login'))
    expect(fromProvider).not.toHaveBeenCalled()
  })

  it('uses window.location.replace without a navigate prop', async () => {
    serve('nobody')
    const replace = vi.fn()
    const original = window.location
    Object.defineProperty(window, 'location', { configurable: true, value: { ...original, replace } })
    try {
      renderHook(() => useRequireAuth('/login'), { wrapper: wrapper({}) })
      await waitFor(() => expect(replace).toHaveBeenCalledWith('/login'))
    } finally {
      Object.defineProperty(window, 'location', { configurable: true, value: original })
    }
  })
})
