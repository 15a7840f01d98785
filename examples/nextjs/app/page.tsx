import { getSession } from '../lib/auth'

// A server component: the identity comes from the X-Auth-User header the
// gateway set on this request, with no call to the backend from the app.
export default async function Home() {
  const { user, tokenType } = await getSession()
  return (
    <main>
      <h1>Home</h1>
      <p>This page is public. The gateway says the token type is <code>{tokenType ?? 'none'}</code>.</p>
      {user && <pre>{JSON.stringify(user, null, 2)}</pre>}
    </main>
  )
}
