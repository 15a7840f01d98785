import { createContext, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import useSWR from 'swr'
import { authEndpoint, createApiFetch, registerRevalidator } from './apiFetch'
import { defaultIsGuest, defaultParseResponse, readJSON } from './parse'
import type { AuthContextValue, AuthProviderProps, AuthResult, AuthUser, LogoutResult, Navigate } from './types'

/**
 * The endpoints of AuthProvider with the default `basePath` (`/api`): the
 * gateway's built-in auth API (`authApi.enabled`).
 */
export const DEFAULT_ENDPOINTS = {
  user: '/api/auth/me',
  login: '/api/auth/login',
  register: '/api/auth/register',
  logout: '/api/auth/logout',
  csrf: '/api/auth/csrf',
} as const

export const AuthContext = createContext<AuthContextValue | null>(null)

// useLayoutEffect warns when rendered on a server (React 18); there the
// callbacks are never called anyway.
const useIsomorphicLayoutEffect = typeof window !== 'undefined' ? useLayoutEffect : useEffect

const defaultNavigate: Navigate = (to) => {
  if (typeof window !== 'undefined') window.location.replace(to)
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

/**
 * AuthProvider keeps the current user (from `GET userEndpoint`, cached with
 * SWR) and offers login, register, logout and refresh to the hooks below it.
 * TUser types the user for apps that have their own user type.
 */
export function AuthProvider<TUser extends object = AuthUser>(props: AuthProviderProps<TUser>) {
  const {
    children,
    initialUser,
    basePath,
    userEndpoint = authEndpoint(basePath, 'me'),
    loginEndpoint = authEndpoint(basePath, 'login'),
    registerEndpoint = authEndpoint(basePath, 'register'),
    logoutEndpoint = authEndpoint(basePath, 'logout'),
    csrfEndpoint = authEndpoint(basePath, 'csrf'),
    csrfCookieName,
    csrfHeaderName,
    logoutRedirect,
    swrConfig = {},
    verifyLogout = true,
  } = props

  // The callbacks (onLogin, onLogout, onError, isGuestFn, parseResponse,
  // parseAuthResponse, navigate) may change on every render; the flows read
  // the latest committed ones through cb, so they keep their identity. cb is
  // written after the commit, never during a render React may discard; it is
  // declared before useSWR so that its mount fetch sees it.
  const cb = useRef(props)
  useIsomorphicLayoutEffect(() => {
    cb.current = props
  })
  const isGuestOf = useCallback((u: TUser | null) => (cb.current.isGuestFn ?? (defaultIsGuest as (u: TUser | null) => boolean))(u), [])
  const parseUser = useCallback((json: unknown) => (cb.current.parseResponse ?? (defaultParseResponse as (j: unknown) => TUser | null))(json), [])
  const navigate = useCallback<Navigate>((to) => (cb.current.navigate ?? defaultNavigate)(to), [])
  // Set when logout sends the browser to logoutRedirect: the hooks stop
  // redirecting, so a page's useRequireAuth cannot race the logout redirect.
  const [isRedirecting, setRedirecting] = useState(false)
  const reportError = useCallback((e: unknown) => cb.current.onError?.(toError(e)), [])

  const fetchUser = useCallback(
    async (url: string): Promise<TUser | null> => {
      const res = await fetch(url, { credentials: 'include', headers: { Accept: 'application/json' } })
      if (res.status === 401) return null
      if (!res.ok) throw new Error(`Failed to fetch user (HTTP ${res.status})`)
      return parseUser(await res.json())
    },
    [parseUser],
  )

  const { data, error, isLoading, mutate } = useSWR<TUser | null, Error>(userEndpoint, fetchUser, {
    fallbackData: initialUser ?? undefined,
    revalidateOnFocus: true,
    revalidateOnReconnect: true,
    revalidateOnMount: !initialUser,
    refreshInterval: 0,
    shouldRetryOnError: false,
    ...swrConfig,
    onError: (err: Error) => reportError(err),
  })

  const refresh = useCallback(() => mutate(), [mutate])
  useEffect(() => registerRevalidator(refresh), [refresh])

  // Login, register and logout never trigger the 401 revalidation: they
  // handle their answers themselves.
  const authFetch = useMemo(
    () => createApiFetch({ csrfEndpoint, csrfCookieName, csrfHeaderName, onUnauthorized: () => undefined }),
    [csrfEndpoint, csrfCookieName, csrfHeaderName],
  )
  const apiFetch = useMemo(
    () => createApiFetch({ csrfEndpoint, csrfCookieName, csrfHeaderName, onUnauthorized: refresh }),
    [csrfEndpoint, csrfCookieName, csrfHeaderName, refresh],
  )

  const authenticate = useCallback(
    async (endpoint: string, body: Record<string, unknown>, fallback: string): Promise<AuthResult<TUser>> => {
      try {
        const res = await authFetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(body),
        })
        const json = await readJSON(res)
        const obj = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>
        let ok: boolean
        let user: TUser | null | undefined
        let message = typeof obj.message === 'string' ? obj.message : undefined
        let errors = obj.errors as AuthResult['errors']
        const parseAuthResponse = cb.current.parseAuthResponse
        if (parseAuthResponse) {
          const parsed = parseAuthResponse(json, res)
          ok = parsed.success
          user = parsed.user
          message = parsed.message
          errors = parsed.errors
        } else {
          ok = res.ok && obj.success !== false
          user = ok ? parseUser(json) : null
        }
        if (!ok) {
          return { success: false, message: message || (res.ok ? fallback : `${fallback} (HTTP ${res.status})`), errors }
        }
        if (user) {
          await mutate(user, { revalidate: false })
        } else {
          // The answer carried no user (perhaps only tokens): ask the gateway.
          user = (await mutate()) ?? null
        }
        if (user && !isGuestOf(user)) cb.current.onLogin?.(user)
        return { success: true, user: user ?? undefined, message }
      } catch (e) {
        reportError(e)
        return { success: false, message: toError(e).message }
      }
    },
    [authFetch, parseUser, mutate, isGuestOf, reportError],
  )

  const login = useCallback(
    (credentials: Record<string, unknown>) => authenticate(loginEndpoint, credentials, 'Login failed'),
    [authenticate, loginEndpoint],
  )
  const register = useCallback(
    (input: Record<string, unknown>) => authenticate(registerEndpoint, input, 'Registration failed'),
    [authenticate, registerEndpoint],
  )

  const logout = useCallback(async (): Promise<LogoutResult> => {
    const fail = (message: string): LogoutResult => {
      reportError(new Error(message))
      return { success: false, message }
    }
    let res: Response
    try {
      res = await authFetch(logoutEndpoint, { method: 'POST', headers: { Accept: 'application/json' } })
    } catch (e) {
      return fail(toError(e).message)
    }
    const json = (await readJSON(res)) as { success?: unknown; message?: unknown } | undefined
    if (!res.ok || json?.success === false) {
      // The session may still be alive: keep showing it.
      return fail(typeof json?.message === 'string' && json.message ? json.message : `Logout failed (HTTP ${res.status})`)
    }
    let after: TUser | null = null
    if (verifyLogout) {
      try {
        after = await fetchUser(userEndpoint)
      } catch {
        after = null // unknown: the server said the session ended
      }
      if (after && !isGuestOf(after)) {
        await mutate(after, { revalidate: false })
        return fail('Logout failed: the server did not end the session.')
      }
    }
    if (logoutRedirect) setRedirecting(true)
    await mutate(after, { revalidate: false })
    cb.current.onLogout?.()
    if (logoutRedirect) navigate(logoutRedirect)
    return { success: true }
  }, [authFetch, logoutEndpoint, verifyLogout, fetchUser, userEndpoint, isGuestOf, mutate, logoutRedirect, navigate, reportError])

  const user = data ?? null
  // Rendering may read the props directly.
  const isGuest = (props.isGuestFn ?? (defaultIsGuest as (u: TUser | null) => boolean))(user)
  const value = useMemo<AuthContextValue<TUser>>(
    () => ({
      user,
      isLoading,
      isAuthenticated: !!user && !isGuest,
      isGuest,
      error: error ?? null,
      login,
      register,
      logout,
      refresh,
      mutate: refresh,
      apiFetch,
      navigate,
      isRedirecting,
    }),
    [user, isLoading, isGuest, error, login, register, logout, refresh, apiFetch, navigate, isRedirecting],
  )
  return <AuthContext.Provider value={value as unknown as AuthContextValue}>{children}</AuthContext.Provider>
}
