import type { ReactNode } from 'react'
import Link from 'next/link'
import { getSession } from '../lib/auth'
import { LogoutButton } from './logout-button'

export const metadata = { title: 'apilayer + Next.js' }

export default async function RootLayout({ children }: { children: ReactNode }) {
  const { user, isAuthenticated, isGuest } = await getSession()
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: '42rem', margin: '2rem auto', padding: '0 1rem' }}>
        <nav style={{ display: 'flex', gap: '1rem', alignItems: 'center' }}>
          <Link href="/">Home</Link>
          <Link href="/dashboard">Dashboard</Link>
          {isAuthenticated ? <LogoutButton name={user?.name} /> : <Link href="/login">Sign in</Link>}
          <small>{isAuthenticated ? 'signed in' : isGuest ? 'guest' : 'no session'}</small>
        </nav>
        {children}
      </body>
    </html>
  )
}
