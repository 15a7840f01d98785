// The root layout is a server component. It reads the session the gateway
// verified (getSession, from X-Auth-Assertion) and hands the user to
// @apilayer/react's AuthProvider, a client component, so client components
// know it without a fetch.
import { AuthProvider } from '@apilayer/react'
import { getSession } from '@apilayer/next'
import type { ReactNode } from 'react'
import type { User } from '../lib/user'
import { Nav } from './nav'

export const metadata = { title: 'apilayer + Next.js' }

export default async function RootLayout({ children }: { children: ReactNode }) {
  const { user } = await getSession<User>()
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: '42rem', margin: '2rem auto', padding: '0 1rem' }}>
        <AuthProvider<User> initialUser={user} basePath="/api">
          <Nav />
          {children}
        </AuthProvider>
      </body>
    </html>
  )
}
