'use client'

import { useState, type FormEvent } from 'react'

// The form posts to the gateway's built-in auth API: the gateway calls the
// backend, keeps the tokens in httpOnly cookies, and answers with the user
// only. The same-origin fetch passes the gateway's CSRF check on its
// Sec-Fetch-Site header; the x-csrf-token header is sent as well, for
// browsers that do not send Fetch Metadata.
export function LoginForm() {
  const [error, setError] = useState('')
  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault()
    setError('')
    const form = new FormData(e.currentTarget)
    const res = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'x-csrf-token': csrfToken() },
      body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
    })
    const body = await res.json().catch(() => ({}))
    if (res.ok && body.success !== false) {
      window.location.assign('/dashboard')
    } else {
      setError(body.message ?? `Sign-in failed (${res.status}).`)
    }
  }
  return (
    <form onSubmit={onSubmit} style={{ display: 'grid', gap: '.5rem', maxWidth: '20rem' }}>
      <input name="username" placeholder="username" defaultValue="alice" autoComplete="username" />
      <input name="password" type="password" placeholder="password" autoComplete="current-password" />
      <button>Sign in</button>
      {error && <p style={{ color: '#b00020' }}>{error}</p>}
    </form>
  )
}

// csrfToken reads the gateway's CSRF cookie (deliberately readable by scripts).
export function csrfToken(): string {
  const m = document.cookie.match(/(?:^|;\s*)__csrf=([^;]*)/)
  return m ? decodeURIComponent(m[1]) : ''
}
