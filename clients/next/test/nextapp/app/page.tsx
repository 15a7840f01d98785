import { getSession } from '@apilayer/next'
import { Who } from './who'

export default async function Home() {
  const s = await getSession()
  const who = s.isAuthenticated ? String(s.user?.name) : s.isGuest ? 'guest' : 'anonymous'
  return (
    <main>
      <p id="server">
        server: {who} locale: {s.locale ?? 'none'}
      </p>
      <Who />
    </main>
  )
}
