import { cookies, headers } from 'next/headers'
import { getSession } from '../../lib/auth'

type Post = { id: number; title: string; body: string; author: string }

// /dashboard is in access.protectedRoutes: the gateway redirects visitors
// without a user session to /login before this component ever runs.
export default async function Dashboard() {
  const { user } = await getSession()
  const posts = await loadPosts()
  return (
    <main>
      <h1>Dashboard</h1>
      <p>Hello {user?.name}. The gateway verified you as:</p>
      <pre>{JSON.stringify(user, null, 2)}</pre>
      <h2>Posts from the backend</h2>
      <ul>{posts.map((p) => <li key={p.id}>{p.title} ({p.author})</li>)}</ul>
    </main>
  )
}

// loadPosts calls the backend from the server with the session's token: the
// token the gateway refreshed in this very request if it did
// (X-Refreshed-Token), else the one in the forwarded cookie, which the
// gateway also keeps current.
async function loadPosts(): Promise<Post[]> {
  const token = (await headers()).get('x-refreshed-token') ?? (await cookies()).get('userAuthToken')?.value
  const base = process.env.API_BASE_URL ?? 'http://127.0.0.1:8000/api/'
  const res = await fetch(new URL('posts', base), {
    headers: token ? { Authorization: `Bearer ${token}`, Accept: 'application/json' } : {},
    cache: 'no-store',
  })
  if (!res.ok) return []
  const body = (await res.json()) as { data?: Post[] }
  return body.data ?? []
}
