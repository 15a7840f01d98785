import type { KeyedMutator, SWRConfiguration } from 'swr'
import type { ReactNode } from 'react'

/** AuthUser is the user object the gateway returns (`GET /api/auth/me`, login, register). */
export interface AuthUser {
  id?: string | number
  name?: string
  email?: string
  username?: string
  /** `user`, `guest` or another token type. */
  type?: string
  token_type?: string
  roles?: string[]
  [key: string]: unknown
}

/** AuthResult is what `login` and `register` resolve to; they never throw. */
export interface AuthResult {
  success: boolean
  message?: string
  user?: AuthUser
  /** Validation errors by field, as the backend sent them (e.g. Laravel's 422 `errors`). */
  errors?: Record<string, string[] | string>
}

/** ParsedAuthResponse is what a custom `parseAuthResponse` returns. */
export interface ParsedAuthResponse {
  success: boolean
  message?: string
  user?: AuthUser | null
  errors?: Record<string, string[] | string>
}

/** LogoutResult is what `logout` resolves to; it never throws. */
export interface LogoutResult {
  success: boolean
  message?: string
}

/** Navigate moves the browser to a path. The default is `window.location.replace`. */
export type Navigate = (to: string) => void

/** ApiFetch has the signature of `fetch`. */
export type ApiFetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>

export interface AuthProviderProps {
  children?: ReactNode
  /** The user rendered by the server (e.g. from `X-Auth-User`); `null` means none. When set, the provider does not fetch on mount. */
  initialUser?: AuthUser | null
  /** Default `/api/auth/me`. */
  userEndpoint?: string
  /** Default `/api/auth/login`. */
  loginEndpoint?: string
  /** Default `/api/auth/register`. */
  registerEndpoint?: string
  /** Default `/api/auth/logout`. */
  logoutEndpoint?: string
  /** Where a missing CSRF token is fetched from. Default `/api/auth/csrf`. */
  csrfEndpoint?: string
  /** The CSRF cookie (readable by scripts). Default `__csrf`. */
  csrfCookieName?: string
  /** The CSRF request header. Default `x-csrf-token`. */
  csrfHeaderName?: string
  /** Where `logout` sends the browser after the session has really ended. Unset: stay. */
  logoutRedirect?: string
  /** Default: `user.token_type === 'guest' || user.type === 'guest'`. */
  isGuestFn?: (user: AuthUser | null) => boolean
  /** Turns a JSON body into the user, or null. Default: {@link defaultParseResponse}. */
  parseResponse?: (json: unknown) => AuthUser | null
  /** Parses login and register answers. Default: success iff 2xx and `success !== false`. */
  parseAuthResponse?: (json: unknown, response: Response) => ParsedAuthResponse
  /** Passed to `useSWR` for the user (after the provider's defaults). */
  swrConfig?: SWRConfiguration
  onLogin?: (user: AuthUser) => void
  onLogout?: () => void
  onError?: (error: Error) => void
  /** How the hooks and `logoutRedirect` move the browser (router-agnostic). Default `window.location.replace`. */
  navigate?: Navigate
  /** After a 2xx logout, ask `userEndpoint` whether the session really ended. Default true. */
  verifyLogout?: boolean
}

export interface AuthContextValue {
  user: AuthUser | null
  isLoading: boolean
  isAuthenticated: boolean
  isGuest: boolean
  error: Error | null
  login: (credentials: Record<string, unknown>) => Promise<AuthResult>
  register: (data: Record<string, unknown>) => Promise<AuthResult>
  logout: () => Promise<LogoutResult>
  /** Revalidates the user (`GET userEndpoint`). */
  refresh: () => Promise<AuthUser | null | undefined>
  /** The same function as `refresh`. */
  mutate: () => Promise<AuthUser | null | undefined>
  /** `fetch` with credentials and the CSRF header, configured like this provider. */
  apiFetch: ApiFetch
  navigate: Navigate
  /** True once logout has sent the browser to `logoutRedirect`; the hooks then no longer redirect. */
  isRedirecting: boolean
}

export type UserMutator = KeyedMutator<AuthUser | null>
