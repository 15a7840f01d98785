import { createContext, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import useSWR from 'swr'
import { createApiFetch, registerRevalidator } from './apiFetch'
import { defaultIsGuest, defaultParseResponse, readJSON } from './parse'
import type { AuthContextValue, AuthProviderProps, AuthResult, AuthUser, LogoutResult, Navigate } from './types'

/** The defaults of AuthProvider: the gateway's built-in auth API (SPEC.md section 6). */
export const DEFAULT_ENDPOINTS = {
  user: '/api/auth/me',
  login: '/api/auth/login',
  register: '/api/auth/register',
  logout: '/api/auth/logout',
  csrf: '/api/auth/csrf',
} as const

export const AuthContext = createContext<AuthContextValue | null>(null)

const defaultNavigate: Navigate = (to) => {
  if (typeof window !== 'undefined') window.location.replace(to)
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

/**
 * AuthProvider keeps the current user (from `GET userEndpoint`, cached with
 * SWR) and offers login, register, logout and refresh to the hooks below it.
 */
export function AuthProvider(props: AuthProviderProps) {
  const {
    children,
    initialUser,
    userEndpoint = DEFAULT_ENDPOINTS.user,
    loginEndpoint = DEFAULT_ENDPOINTS.login,
    registerEndpoint = DEFAULT_ENDPOINTS.register,
    logoutEndpoint = DEFAULT_ENDPOINTS.logout,
    csrfEndpoint = DEFAULT_ENDPOINTS.csrf,
    csrfCookieName,
    csrfHeaderName,
    logoutRedirect,
    isGuestFn = defaultIsGuest,
    parseResponse = defaultParseResponse,
    parseAuthResponse,
    swrConfig = {},
    verifyLogout = true,
  } = props
  const navigate = props.navigate ?? defaultNavigate

  // The callbacks may change on every render; the flows read the latest.
  const cb = useRef(props)
  cb.current = props
  // Set when logout sends the browser to logoutRedirect: the hooks stop
  // redirecting, so a page's useRequireAuth cannot race the logout redirect.
  const [isRedirecting, setRedirecting] = useState(false)
  const reportError = useCallback((e: unknown) => cb.current.onError?.(toError(e)), [])

  const fetchUser = useCallback(
    async (url: string): Promise<AuthUser | null> => {
      const res = await fetch(url, { credentials: 'include', headers: { Accept: 'application/json' } })
      if (res.status === 401) return null
      if (!res.ok) throw new Error(`Failed to fetch user (HTTP ${res.status})`)
      return parseResponse(await res.json())
    },
    [parseResponse],
  )

  const { data, error, isLoading, mutate } = useSWR<AuthUser | null, Error>(userEndpoint, fetchUser, {
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
    async (endpoint: string, body: Record<string, unknown>, fallback: string): Promise<AuthResult> => {
      try {
        const res = await authFetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(body),
        })
        const json = await readJSON(res)
        const obj = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>
        let ok: boolean
        let user: AuthUser | null | undefined
        let message = typeof obj.message === 'string' ? obj.message : undefined
        let errors = obj.errors as AuthResult['errors']
        if (parseAuthResponse) {
          const parsed = parseAuthResponse(json, res)
          ok = parsed.success
          user = parsed.user
          message = parsed.message
          errors = parsed.errors
        } else {
          ok = res.ok && obj.success !== false
          user = ok ? parseResponse(json) : null
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
        if (user && !isGuestFn(user)) cb.current.onLogin?.(user)
        return { success: true, user: user ?? undefined, message }
      } catch (e) {
        reportError(e)
        return { success: false, message: toError(e).message }
      }
    },
    [authFetch, parseAuthResponse, parseResponse, mutate, isGuestFn, reportError],
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
      // The session may still be alive: keep showing it (BEHAVIOUR.md 10.6 item 50).
      return fail(typeof json?.message === 'string' && json.message ? json.message : `Logout failed (HTTP ${res.status})`)
    }
    let after: AuthUser | null = null
    if (verifyLogout) {
      try {
        after = await fetchUser(userEndpoint)
      } catch {
        after = null // unknown: the server said the session ended
      }
      if (after && !isGuestFn(after)) {
        await mutate(after, { revalidate: false })
        return fail('Logout failed: the server did not end the session.')
      }
    }
    if (logoutRedirect) setRedirecting(true)
    await mutate(after, { revalidate: false })
    cb.current.onLogout?.()
    if (logoutRedirect) navigate(logoutRedirect)
    return { success: true }
  }, [authFetch, logoutEndpoint, verifyLogout, fetchUser, userEndpoint, isGuestFn, mutate, logoutRedirect, navigate, reportError])

  const user = data ?? null
  const isGuest = isGuestFn(user)
  const value = useMemo<AuthContextValue>(
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
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}
