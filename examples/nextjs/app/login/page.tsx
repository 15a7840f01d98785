import { LoginForm } from './login-form'

// /login is in access.authRoutes: a signed-in user is sent home by the
// gateway. A visitor the gateway sent here from a protected page arrives
// with ?next=/that/page (access.returnParam).
export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams
  return (
    <main>
      <h1 id="title">Sign in</h1>
      <p>Demo users: alice / alice-password, admin / admin-password.</p>
      <LoginForm next={safeNext(next)} />
    </main>
  )
}

// safeNext keeps a same-site path only: never another site
// (//evil.example, /\evil.example, https://...).
function safeNext(next: string | string[] | undefined): string {
  const p = Array.isArray(next) ? next[0] : next
  if (!p || !p.startsWith('/') || p.startsWith('//') || p.includes('\\')) return '/dashboard'
  return p
}
