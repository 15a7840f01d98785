import { getSession } from '@apilayer/next'
import type { User } from '../lib/user'

// A server component: the identity comes from the assertion the gateway
// signed for this request, with no call to the backend from the app.
export default async function Home() {
  const { user, tokenType, verified } = await getSession<User>()
  return (
    <main>
      <h1 id="title">Home</h1>
      <p>
        This page is public. The gateway says the token type is <code id="token-type">{tokenType ?? 'none'}</code>
        {verified ? ' (signed assertion verified)' : ''}.
      </p>
      {user && <pre>{JSON.stringify(user, null, 2)}</pre>}
    </main>
  )
}
