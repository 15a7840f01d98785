import { getServerUser } from '@apilayer/next'
import { api } from '../../lib/api'
import type { User } from '../../lib/user'

// /admin is covered by the rule {path: /admin/**, roles: [admin]}: the
// gateway answers 403 to a signed-in user without the role, and sends a
// guest to /login, before this component runs.
export default async function Admin() {
  const user = await getServerUser<User>()
  const stats = await api.get<{ data?: unknown }>('admin/stats').catch(() => null)
  return (
    <main>
      <h1 id="title">Admin</h1>
      <p>Hello {user?.name}, administrator.</p>
      <pre id="stats">{JSON.stringify(stats?.data ?? null, null, 2)}</pre>
    </main>
  )
}
