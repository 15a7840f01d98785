import { headers } from 'next/headers'

// User is what the backend returned for the session, without any token.
export type User = {
  id?: number | string
  name?: string
  email?: string
  roles?: string[]
  type?: string
  [key: string]: unknown
}

// Session is who the gateway says the visitor is.
export type Session = {
  user: User | null
  tokenType: string | null // "user", "guest", or null without a token
  isAuthenticated: boolean
  isGuest: boolean
}

// getSession reads the identity the gateway verified for this request. The
// gateway removes any X-Auth-User a client sends and sets its own, so the
// header can be trusted as long as the app is reachable only through the
// gateway (this example listens on 127.0.0.1). Reading headers makes the
// page dynamic: it is rendered for each request.
export async function getSession(): Promise<Session> {
  const h = await headers()
  const tokenType = h.get('x-auth-token-type')
  const raw = h.get('x-auth-user')
  let user: User | null = null
  if (raw) {
    try {
      user = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as User
    } catch {
      user = null
    }
  }
  return {
    user,
    tokenType,
    isAuthenticated: user !== null && tokenType !== null && tokenType !== 'guest',
    isGuest: tokenType === 'guest',
  }
}
