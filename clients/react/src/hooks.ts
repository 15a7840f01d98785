import { useContext, useEffect } from 'react'
import { AuthContext } from './AuthProvider'
import type { AuthContextValue, AuthUser, Navigate } from './types'

export interface UseAuthOptions {
  /** Send visitors who are not authenticated here once the user is known. */
  redirectTo?: string
  /** Send authenticated users here once the user is known. */
  redirectIfFound?: string
  /** With redirectTo: let guests stay (by default guests are redirected too). */
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
 * TUser is the provider's user type (`AuthProvider<TUser>`).
 */
export function useAuth<TUser = AuthUser>(options: UseAuthOptions = {}): AuthContextValue<TUser> {
  const ctx = useContext(AuthContext) as AuthContextValue<TUser> | null
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

export interface UserState<TUser = AuthUser> {
  user: TUser | null
  isLoading: boolean
  isAuthenticated: boolean
  isGuest: boolean
}

/** useUser returns the user and what it is. */
export function useUser<TUser = AuthUser>(): UserState<TUser> {
  const { user, isLoading, isAuthenticated, isGuest } = useAuth<TUser>()
  return { user, isLoading, isAuthenticated, isGuest }
}

/**
 * useRequireAuth sends visitors who are not authenticated, guests included
 * unless allowGuests is set, to redirectTo.
 */
export function useRequireAuth<TUser = AuthUser>(
  redirectTo = '/login',
  options: Pick<UseAuthOptions, 'allowGuests' | 'navigate'> = {},
): AuthContextValue<TUser> {
  return useAuth<TUser>({ redirectTo, allowGuests: options.allowGuests, navigate: options.navigate })
}

/**
 * useRedirectIfAuth sends authenticated users (and guests, with
 * includeGuests) to redirectTo, e.g. away from a login page.
 */
export function useRedirectIfAuth<TUser = AuthUser>(
  redirectTo = '/',
  options: Pick<UseAuthOptions, 'includeGuests' | 'navigate'> = {},
): AuthContextValue<TUser> {
  return useAuth<TUser>({ redirectIfFound: redirectTo, includeGuests: options.includeGuests, navigate: options.navigate })
}
