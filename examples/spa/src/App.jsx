import { useEffect, useState } from 'react'
import useSWR from 'swr'
import { apiFetch, useAuth, useRedirectIfAuth, useRequireAuth } from '@apilayer/react'

// A tiny router: the gateway answers every navigation to a path without a
// file extension with index.html, so /login and /dashboard load this app.
function usePath() {
  const [path, setPath] = useState(window.location.pathname)
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname)
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  return path
}

function Link({ to, children }) {
  return (
    <a href={to} onClick={(e) => { e.preventDefault(); window.history.pushState(null, '', to); window.dispatchEvent(new PopStateEvent('popstate')) }}>
      {children}
    </a>
  )
}

export function App() {
  const path = usePath()
  const { user, isLoading, isAuthenticated, isGuest, logout } = useAuth()
  return (
    <>
      <nav>
        <Link to="/">Home</Link>
        <Link to="/dashboard">Dashboard</Link>
        {isAuthenticated
          ? <button onClick={() => logout()}>Sign out {user?.name}</button>
          : <Link to="/login">Sign in</Link>}
      </nav>
      <p>
        {isLoading ? 'Loading…' : isAuthenticated ? `Signed in as ${user?.name}.` : isGuest ? 'Browsing as a guest.' : 'Not signed in.'}
      </p>
      {path === '/login' ? <Login /> : path === '/dashboard' ? <Dashboard /> : <Home />}
    </>
  )
}

function Home() {
  return <p>This page is public. The dashboard needs a signed-in user.</p>
}

function Login() {
  useRedirectIfAuth('/dashboard')
  const { login } = useAuth()
  const [error, setError] = useState('')
  async function onSubmit(e) {
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    const r = await login({ username: form.get('username'), password: form.get('password') })
    if (!r.success) setError(r.message || 'Sign-in failed.')
  }
  return (
    <form onSubmit={onSubmit}>
      <h1>Sign in</h1>
      <input name="username" placeholder="username" defaultValue="alice" autoComplete="username" />
      <input name="password" type="password" placeholder="password" autoComplete="current-password" />
      <button>Sign in</button>
      {error && <p className="error">{error}</p>}
    </form>
  )
}

const fetcher = (url) => apiFetch(url, { headers: { Accept: 'application/json' } }).then((r) => {
  if (!r.ok) throw new Error(`HTTP ${r.status}`)
  return r.json()
})

function Dashboard() {
  const { user, isAuthenticated } = useRequireAuth('/login') // guests go to /login too
  // GET /api/posts goes through the gateway to the backend's posts, with the token.
  const { data, error } = useSWR(isAuthenticated ? '/api/posts' : null, fetcher)
  if (!isAuthenticated) return null
  return (
    <>
      <h1>Dashboard</h1>
      <p>The gateway says you are:</p>
      <pre>{JSON.stringify(user, null, 2)}</pre>
      <h2>Posts from the backend</h2>
      {error ? <p className="error">{error.message}</p> : <pre>{JSON.stringify(data, null, 2)}</pre>}
    </>
  )
}
