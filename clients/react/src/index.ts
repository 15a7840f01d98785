export { AuthProvider, AuthContext, DEFAULT_ENDPOINTS } from './AuthProvider'
export { useAuth, useUser, useRequireAuth, useRedirectIfAuth } from './hooks'
export type { UseAuthOptions, UserState } from './hooks'
export {
  apiFetch,
  createApiFetch,
  getCsrfToken,
  readCookie,
  revalidateAuth,
  DEFAULT_CSRF_COOKIE,
  DEFAULT_CSRF_HEADER,
  DEFAULT_CSRF_ENDPOINT,
  DEFAULT_BASE_PATH,
} from './apiFetch'
export type { ApiFetchOptions } from './apiFetch'
export { asUser, defaultParseResponse, defaultIsGuest, TOKEN_FIELDS } from './parse'
export type {
  ApiFetch,
  AuthContextValue,
  AuthProviderProps,
  AuthResult,
  AuthUser,
  LogoutResult,
  Navigate,
  ParsedAuthResponse,
} from './types'
