'use client'

import { csrfToken } from './login/login-form'

export function LogoutButton({ name }: { name?: string }) {
  async function onClick() {
    await fetch('/api/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrfToken() } })
    window.location.assign('/')
  }
  return <button onClick={onClick}>Sign out {name}</button>
}
