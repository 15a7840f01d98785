import { render, type RenderResult } from '@testing-library/react'
import type { ReactNode } from 'react'
import { SWRConfig } from 'swr'
import { AuthProvider, useAuth, type AuthContextValue, type AuthProviderProps, type UseAuthOptions } from '../src'

/** renderAuth mounts an AuthProvider with its own SWR cache and exposes the latest context value. */
export function renderAuth(props: Omit<AuthProviderProps, 'children'> = {}, options?: UseAuthOptions, children?: ReactNode) {
  const latest: { current: AuthContextValue | null } = { current: null }
  function Probe() {
    latest.current = useAuth(options)
    const { user, isLoading, isAuthenticated, isGuest, error } = latest.current
    return (
      <output data-testid="state">
        {JSON.stringify({ name: user?.name ?? null, isLoading, isAuthenticated, isGuest, error: error?.message ?? null })}
      </output>
    )
  }
  const result: RenderResult = render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <AuthProvider {...props}>
        <Probe />
        {children}
      </AuthProvider>
    </SWRConfig>,
  )
  const ctx = () => {
    if (!latest.current) throw new Error('not rendered')
    return latest.current
  }
  const state = () => JSON.parse(result.getByTestId('state').textContent ?? '{}') as Record<string, unknown>
  return { ...result, ctx, state }
}
