import type { SWRConfiguration } from 'swr'
import type { ReactNode } from 'react'

/**
 * AuthUser is the user object the gateway returns (`GET /api/auth/me`, login,
 * register). Apps with their own user type pass it as a type argument:
 * `AuthProvider<Me>`, `useAuth<Me>()`.
 */
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
export interface AuthResult<TUser = AuthUser> {
  success: boolean
  message?: string
  user?: TUser
  /** Validation errors by field, as the backend sent them (e.g. Laravel's 422 `errors`). */
  errors?: Record<string, string[] | string>
}

/** ParsedAuthResponse is what a custom `parseAuthResponse` returns. */
export interface ParsedAuthResponse<TUser = AuthUser> {
  success: boolean
  message?: string
  user?: TUser | null
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

export interface AuthProviderProps<TUser extends object = AuthUser> {
  children?: ReactNode
  /**
   * The user rendered by the server (e.g. `getServerUser()` of
   * `@apilayer/next`). With a user object the provider shows it at once and
   * does not fetch on mount; unset or `null` (the server saw no user), it
   * fetches `userEndpoint` on mount.
   */
  initialUser?: TUser | null
  /** The gateway's `api.prefix`: every endpoint below defaults to `{basePath}/auth/...`. Default `/api`. */
  basePath?: string
  /** Default `{basePath}/auth/me`. */
  userEndpoint?: string
  /** Default `{basePath}/auth/login`. */
  loginEndpoint?: string
  /** Default `{basePath}/auth/register`. */
  registerEndpoint?: string
  /** Default `{basePath}/auth/logout`. */
  logoutEndpoint?: string
  /** Where a missing CSRF token is fetched from. Default `{basePath}/auth/csrf`. */
  csrfEndpoint?: string
  /** The CSRF cookie (readable by scripts). Default `__csrf`. */
  csrfCookieName?: string
  /** The CSRF request header. Default `x-csrf-token`. */
  csrfHeaderName?: string
  /** Where `logout` sends the browser after the session has really ended. Unset: stay. */
  logoutRedirect?: string
  /** Default: `user.token_type === 'guest' || user.type === 'guest'`. It may change on every render. */
  isGuestFn?: (user: TUser | null) => boolean
  /** Turns a JSON body into the user, or null. Default: {@link defaultParseResponse}. It may change on every render. */
  parseResponse?: (json: unknown) => TUser | null
  /** Parses login and register answers. Default: success iff 2xx and `success !== false`. */
  parseAuthResponse?: (json: unknown, response: Response) => ParsedAuthResponse<TUser>
  /** Passed to `useSWR` for the user (after the provider's defaults). */
  swrConfig?: SWRConfiguration
  onLogin?: (user: TUser) => void
  onLogout?: () => void
  onError?: (error: Error) => void
  /** How the hooks and `logoutRedirect` move the browser (router-agnostic). Default `window.location.replace`. */
  navigate?: Navigate
  /** After a 2xx logout, ask `userEndpoint` whether the session really ended. Default true. */
  verifyLogout?: boolean
}

export interface AuthContextValue<TUser = AuthUser> {
  user: TUser | null
  isLoading: boolean
  isAuthenticated: boolean
  isGuest: boolean
  error: Error | null
  login: (credentials: Record<string, unknown>) => Promise<AuthResult<TUser>>
  register: (data: Record<string, unknown>) => Promise<AuthResult<TUser>>
  logout: () => Promise<LogoutResult>
  /** Revalidates the user (`GET userEndpoint`). */
  refresh: () => Promise<TUser | null | undefined>
  /** The same function as `refresh`. */
  mutate: () => Promise<TUser | null | undefined>
  /** `fetch` with credentials and the CSRF header, configured like this provider. */
  apiFetch: ApiFetch
  navigate: Navigate
  /** True once logout has sent the browser to `logoutRedirect`; the hooks then no longer redirect. */
  isRedirecting: boolean
}
