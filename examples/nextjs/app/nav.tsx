'use client'

import Link from 'next/link'
import { useAuth } from '@apilayer/react'
import type { User } from '../lib/user'

// Nav knows the user from AuthProvider. Links to protected pages are not
// prefetched for visitors who are not signed in: the gateway would answer
// each prefetch 401 (docs/migrating-from-next-api-layer.md, "Prefetching").
export function Nav() {
  const { user, isAuthenticated, isGuest, logout } = useAuth<User>()
  return (
    <nav style={{ display: 'flex', gap: '1rem', alignItems: 'center' }}>
      <Link href="/">Home</Link>
      <Link href="/dashboard" prefetch={isAuthenticated ? null : false}>
        Dashboard
      </Link>
      <Link href="/admin" prefetch={false}>
        Admin
      </Link>
      {isAuthenticated ? (
        <button id="logout" onClick={() => void logout().then(() => window.location.assign('/'))}>
          Sign out {user?.name}
        </button>
      ) : (
        <Link href="/login">Sign in</Link>
      )}
      <small id="state">{isAuthenticated ? 'signed in' : isGuest ? 'guest' : 'no session'}</small>
    </nav>
  )
}
