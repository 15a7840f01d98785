import { useContext, useEffect } from 'react'
import { AuthContext } from './AuthProvider'
import type { AuthContextValue, AuthUser, Navigate } from './types'

export interface UseAuthOptions {
  /** Send visitors who are not authenticated here once the user is known. */
  redirectTo?: string
  /** Send authenticated users here once the user is known. */
  redirectIfFound?: string
  /** With redirectTo: let guests stay (by default guests are redirected, BEHAVIOUR.md 10.6 item 49). */
  allowGuests?: boolean
  /** With redirectIfFound: redirect guests too. */
  includeGuests?: boolean
  /** Overrides the provider's navigate. */
  navigate?: Navigate
}

/**
 * useAuth returns the auth state and flows of the nearest AuthProvider and,
 * when asked, redirects once the user is known. It never redirects while the
 * user is loading or could not be fetched (an outage is not a logout).
 */
export function useAuth(options: UseAuthOptions = {}): AuthContextValue {
  const ctx = useContext(AuthContext)
  if (!ctx) {
    throw new Error('useAuth must be used within an AuthProvider. Wrap your app with <AuthProvider> from @apilayer/react')
  }
  const { redirectTo, redirectIfFound, allowGuests = false, includeGuests = false } = options
  const navigate = options.navigate ?? ctx.navigate
  const { isLoading, error, isAuthenticated, isGuest, isRedirecting } = ctx
  useEffect(() => {
    if (isLoading || error || isRedirecting) return
    if (redirectTo && !isAuthenticated && !(allowGuests && isGuest)) {
      navigate(redirectTo)
    } else if (redirectIfFound && (isAuthenticated || (includeGuests && isGuest))) {
      navigate(redirectIfFound)
    }
  }, [isLoading, error, isRedirecting, isAuthenticated, isGuest, redirectTo, redirectIfFound, allowGuests, includeGuests, navigate])
  return ctx
}

export interface UserState {
  user: AuthUser | null
  isLoading: boolean
  isAuthenticated: boolean
  isGuest: boolean
}

/** useUser returns the user and what it is. */
export function useUser(): UserState {
  const { user, isLoading, isAuthenticated, isGuest } = useAuth()
  return { user, isLoading, isAuthenticated, isGuest }
}

/**
 * useRequireAuth sends visitors who are not authenticated, guests included
 * unless allowGuests is set, to redirectTo.
 */
export function useRequireAuth(
  redirectTo = '/login',
  options: Pick<UseAuthOptions, 'allowGuests' | 'navigate'> = {},
): AuthContextValue {
  return useAuth({ redirectTo, allowGuests: options.allowGuests, navigate: options.navigate })
}

/**
 * useRedirectIfAuth sends authenticated users (and guests, with
 * includeGuests) to redirectTo, e.g. away from a login page.
 */
export function useRedirectIfAuth(
  redirectTo = '/',
  options: Pick<UseAuthOptions, 'includeGuests' | 'navigate'> = {},
): AuthContextValue {
  return useAuth({ redirectIfFound: redirectTo, includeGuests: options.includeGuests, navigate: options.navigate })
}
