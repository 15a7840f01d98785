'use client'

import { useState, type FormEvent } from 'react'
import { useAuth } from '@apilayer/react'

// The form signs in through AuthProvider's login: a POST to the gateway's
// built-in auth API (with the CSRF header). The gateway calls the backend,
// keeps the tokens in httpOnly cookies and answers with the user only.
// Then the browser goes where it was sent from (?next=).
export function LoginForm({ next }: { next: string }) {
  const { login } = useAuth()
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault()
    setError('')
    setBusy(true)
    const form = new FormData(e.currentTarget)
    const res = await login({ username: form.get('username'), password: form.get('password') })
    if (res.success) {
      // A full navigation: the server components render with the new session.
      window.location.assign(next)
      return
    }
    setBusy(false)
    const fields = Object.values(res.errors ?? {}).flat()
    setError(fields.length > 0 ? fields.join(' ') : (res.message ?? 'Sign-in failed.'))
  }
  return (
    <form id="login" onSubmit={onSubmit} style={{ display: 'grid', gap: '.5rem', maxWidth: '20rem' }}>
      <input name="username" placeholder="username" autoComplete="username" />
      <input name="password" type="password" placeholder="password" autoComplete="current-password" />
      <button type="submit" disabled={busy}>
        Sign in
      </button>
      {error && (
        <p id="error" style={{ color: '#b00020' }}>
          {error}
        </p>
      )}
    </form>
  )
}
