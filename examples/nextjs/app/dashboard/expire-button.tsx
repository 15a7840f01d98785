'use client'

import { useState } from 'react'
import { useAuth } from '@apilayer/react'

// The demo backend can make the current access token invalid at once
// (POST /api/demo/expire-session, through the gateway's API proxy). Once
// the gateway's cached validation of it has lapsed (validate.cacheTTL, 2 s),
// the next request is refreshed by the gateway without the user noticing.
export function ExpireButton() {
  const { apiFetch } = useAuth()
  const [done, setDone] = useState('')
  async function onClick() {
    const res = await apiFetch('/api/demo/expire-session', { method: 'POST' })
    setDone(res.ok ? 'Expired: reload the page in a few seconds, you stay signed in.' : `The backend answered ${res.status}.`)
  }
  return (
    <p>
      <button id="expire" onClick={() => void onClick()}>
        Expire my access token
      </button>{' '}
      <span id="expired">{done}</span>
    </p>
  )
}
