// The root layout is a server component: it renders AuthProvider directly,
// which works because @apilayer/react's build is a client module.
import { AuthProvider } from '@apilayer/react'
import { getServerUser } from '@apilayer/next'
import type { ReactNode } from 'react'
import type { Me } from './me'

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await getServerUser<Me>()
  return (
    <html lang="en">
      <body>
        <AuthProvider<Me> initialUser={user} basePath="/api">
          {children}
        </AuthProvider>
      </body>
    </html>
  )
}
