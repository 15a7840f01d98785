import { LoginForm } from './login-form'

// /login is in access.authRoutes: a signed-in user is redirected home by the
// gateway.
export default function LoginPage() {
  return (
    <main>
      <h1>Sign in</h1>
      <p>Demo users: alice / alice-password, admin / admin-password.</p>
      <LoginForm />
    </main>
  )
}
