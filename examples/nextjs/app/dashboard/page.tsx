import { getServerUser } from '@apilayer/next'
import { loadPosts } from '../../lib/api'
import type { User } from '../../lib/user'
import { ExpireButton } from './expire-button'
import { NoteForm } from './note-form'

// /dashboard is in access.protectedRoutes: the gateway sends visitors
// without a user session to /login?next=%2Fdashboard before this component
// ever runs. getServerUser() reads the verified assertion.
export default async function Dashboard() {
  const user = await getServerUser<User>()
  if (!user) return <p>Not signed in.</p>
  const { posts, stale, since, refused } = await loadPosts(String(user.id ?? user.email))
  return (
    <main>
      <h1 id="title">Dashboard</h1>
      <p id="hello">Hello {user.name}.</p>
      <h2>Posts from the backend</h2>
      {stale && (
        <p id="stale" role="status">
          The backend is unavailable.{' '}
          {since ? `These are the posts it gave at ${new Date(since).toLocaleTimeString('en-GB')}.` : 'Posts will be back when it is.'}
        </p>
      )}
      {refused && <p id="refused">The backend refused the call ({refused}): reload the page.</p>}
      <ul id="posts">
        {posts.map((p) => (
          <li key={p.id}>
            {p.title}
            {p.author ? ` (${p.author})` : ''}
          </li>
        ))}
      </ul>
      <h2>A server action</h2>
      <NoteForm />
      <h2>Refresh</h2>
      <ExpireButton />
      <h2>What the gateway verified</h2>
      <pre id="user">{JSON.stringify(user, null, 2)}</pre>
    </main>
  )
}
