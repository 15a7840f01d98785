import { useEffect, useState, type FormEvent } from 'react'
import { useAuth, useRequireAuth, useUser, type AuthUser } from '../src'
import type { Initial } from './initial'

function displayName(user: AuthUser | null): string {
  for (const k of ['name', 'email', 'username'] as const) {
    const v = user?.[k]
    if (typeof v === 'string' && v) return v
  }
  return user?.id !== undefined ? String(user.id) : 'someone'
}

function Who() {
  const { user, isAuthenticated, isGuest } = useUser()
  if (isAuthenticated) return <>Signed in as {displayName(user)}</>
  return <>{isGuest ? 'Guest' : 'Anonymous'}</>
}

function Nav() {
  const { isAuthenticated, logout } = useAuth()
  const [problem, setProblem] = useState('')
  const onLogout = async () => {
    setProblem('')
    const res = await logout()
    if (!res.success) setProblem(res.message ?? 'Sign-out failed.')
  }
  return (
    <nav>
      <a href="/">Home</a>
      <a href="/dashboard">Dashboard</a>
      <a href="/admin">Admin</a>
      <span className="who" id="who">
        <Who />
      </span>
      {isAuthenticated ? (
        <button id="logout" type="button" onClick={onLogout}>
          Sign out
        </button>
      ) : (
        <a href="/login">Sign in</a>
      )}
      {problem && (
        <span className="errors" role="alert">
          {problem}
        </span>
      )}
    </nav>
  )
}

function Home() {
  const { isAuthenticated, isGuest } = useUser()
  return (
    <>
      <h1 id="title">
        <Who />
      </h1>
      {isAuthenticated ? (
        <p>
          Welcome back. Your session lives in an httpOnly cookie that this page cannot read. <a href="/dashboard">Open your dashboard</a>.
        </p>
      ) : isGuest ? (
        <p>
          You are browsing with a guest token that the gateway minted for you. <a href="/login">Sign in</a> to see your dashboard.
        </p>
      ) : (
        <p>
          You have no session. <a href="/login">Sign in</a>.
        </p>
      )}
      <h2>What JavaScript can see</h2>
      <p>
        <code>document.cookie</code> holds only the CSRF cookie; the auth tokens are httpOnly:
      </p>
      <pre id="visible-cookies">{document.cookie || '(nothing)'}</pre>
    </>
  )
}

function safeNext(): string {
  const next = new URLSearchParams(window.location.search).get('next')
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/dashboard'
}

function Login() {
  const { login } = useAuth()
  const [errors, setErrors] = useState<string[]>([])
  const [busy, setBusy] = useState(false)
  const onSubmit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    setErrors([])
    setBusy(true)
    const res = await login({ username: String(form.get('username') ?? ''), password: String(form.get('password') ?? '') })
    setBusy(false)
    if (res.success) {
      window.location.assign(safeNext())
      return
    }
    const msgs = [res.message ?? 'Sign-in failed.']
    for (const list of Object.values(res.errors ?? {})) msgs.push(...([] as string[]).concat(list))
    setErrors(msgs)
  }
  return (
    <>
      <h1 id="title">Sign in</h1>
      <form id="login" onSubmit={onSubmit} noValidate>
        <label>
          Username or email <input name="username" autoComplete="username" />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="current-password" />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ul id="errors" className="errors" role="alert">
        {errors.map((m, i) => (
          <li key={i}>{m}</li>
        ))}
      </ul>
      <p>Demo users: alice / alice-password, admin / admin-password.</p>
    </>
  )
}

function expiresAt(user: AuthUser | null): string {
  return typeof user?.exp === 'number' ? new Date(user.exp * 1000).toLocaleTimeString('en-GB') : 'unknown'
}

function ExpireSession() {
  const { apiFetch, refresh, user } = useAuth()
  const [status, setStatus] = useState('')
  const onExpire = async () => {
    setStatus('Expiring…')
    const res = await apiFetch('/api/demo/expire-session', { method: 'POST', headers: { Accept: 'application/json' } })
    if (!res.ok) {
      setStatus(`The backend refused (HTTP ${res.status}).`)
      return
    }
    // The next request carries a token the backend now rejects: the gateway
    // refreshes it and answers as if nothing happened.
    const after = await refresh()
    setStatus(
      after && after.type !== 'guest'
        ? `The backend now rejects your old access token; the gateway refreshed it transparently. Still signed in as ${displayName(after)}, with a new token that expires at ${expiresAt(after)}.`
        : 'The session could not be refreshed: you are signed out.',
    )
  }
  return (
    <section>
      <h2>Transparent refresh</h2>
      <p>
        Access token expires at <span id="token-exp">{expiresAt(user)}</span>.
      </p>
      <button id="expire" type="button" onClick={onExpire}>
        Expire my access token
      </button>
      <p id="refresh-status" role="status">
        {status}
      </p>
    </section>
  )
}

function NoteForm() {
  const { apiFetch } = useAuth()
  const [out, setOut] = useState('')
  const onSubmit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const note = String(new FormData(e.currentTarget).get('note') ?? '')
    const res = await apiFetch('/api/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ note }),
    })
    const json = (await res.json().catch(() => ({}))) as { data?: { body?: unknown }; message?: string }
    setOut(res.ok ? `HTTP ${res.status}: the backend received ${JSON.stringify(json.data?.body)}` : `HTTP ${res.status}: ${json.message ?? ''}`)
  }
  return (
    <section>
      <h2>CSRF-protected form</h2>
      <p>
        Posted with <code>apiFetch</code>, which copies the <code>__csrf</code> cookie into the <code>x-csrf-token</code> header.
      </p>
      <form id="note" onSubmit={onSubmit}>
        <label>
          Note <input name="note" defaultValue="hello from the dashboard" />
        </label>
        <button type="submit">Post note</button>
      </form>
      <pre id="echo">{out}</pre>
    </section>
  )
}

function Dashboard() {
  const { user, isAuthenticated } = useRequireAuth('/login?next=%2Fdashboard')
  if (!isAuthenticated) return <h1 id="title">Dashboard</h1>
  const roles = Array.isArray(user?.roles) ? user.roles : []
  return (
    <>
      <h1 id="title">Dashboard</h1>
      <p>
        Signed in as <strong id="name">{displayName(user)}</strong> (token type {String(user?.type ?? 'user')}). The page was rendered
        with the user the gateway passed in <code>X-Auth-User</code>.
      </p>
      <h2>Roles</h2>
      <ul id="roles">{roles.length ? roles.map((r) => <li key={r}>{r}</li>) : <li>none</li>}</ul>
      <h2>User object</h2>
      <pre id="user">{JSON.stringify(user, null, 2)}</pre>
      <ExpireSession />
      <NoteForm />
    </>
  )
}

function AdminStats() {
  const { apiFetch } = useAuth()
  const [rows, setRows] = useState<[string, unknown][] | null>(null)
  const [message, setMessage] = useState('')
  useEffect(() => {
    let live = true
    void (async () => {
      const res = await apiFetch('/api/admin/stats', { headers: { Accept: 'application/json' } })
      const json = (await res.json().catch(() => ({}))) as { data?: Record<string, unknown>; message?: string }
      if (!live) return
      if (res.ok) setRows(Object.entries(json.data ?? {}))
      else setMessage(json.message ?? `HTTP ${res.status}`)
    })()
    return () => {
      live = false
    }
  }, [apiFetch])
  return (
    <div id="stats">
      {message ||
        (rows ? (
          <table>
            <tbody>
              {rows.map(([k, v]) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td>{String(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          'Loading…'
        ))}
    </div>
  )
}

function Admin({ forbidden }: { forbidden: boolean }) {
  const { user, isAuthenticated } = useRequireAuth('/login?next=%2Fadmin')
  if (!isAuthenticated) return <h1 id="title">Admin</h1>
  if (forbidden || !(Array.isArray(user?.roles) && user.roles.includes('admin'))) {
    return (
      <>
        <h1 id="title">Forbidden</h1>
        <p>{displayName(user)}, the admin page needs the admin role.</p>
      </>
    )
  }
  return (
    <>
      <h1 id="title">Admin</h1>
      <p>Backend statistics, fetched through the gateway&apos;s API proxy:</p>
      <AdminStats />
    </>
  )
}

export function App({ initial }: { initial: Initial }) {
  let page
  switch (initial.page) {
    case 'home':
      page = <Home />
      break
    case 'login':
      page = <Login />
      break
    case 'dashboard':
      page = <Dashboard />
      break
    case 'admin':
    case 'forbidden':
      page = <Admin forbidden={initial.page === 'forbidden'} />
      break
    default:
      page = (
        <>
          <h1 id="title">Not found</h1>
          <p>
            <a href="/">Back home</a>
          </p>
        </>
      )
  }
  return (
    <>
      <Nav />
      <main>{page}</main>
      <footer>
        {initial.requestId && `Request ${initial.requestId}. `}This app sees only what the apilayer gateway tells it; it is built with
        @apilayer/react.
      </footer>
    </>
  )
}
