import { ApiError, NetworkError, createApiClient } from '@apilayer/next'

// api calls the backend from server code (server components, route
// handlers, server actions) with the request's token and locale: the token
// the gateway refreshed in this very request if it did (X-Refreshed-Token),
// else the cookie. In signed mode (APILAYER_JWKS_URL) a request without a
// valid X-Auth-Assertion has no token.
export const api = createApiClient({
  baseURL: process.env.API_BASE_URL ?? 'http://127.0.0.1:8000/api/',
  timeout: 3000,
})

export interface Post {
  id: number
  title: string
  body?: string
  author?: string
}

export interface Posts {
  posts: Post[]
  /** The backend is unavailable: these are the last posts it gave this user, or none. */
  stale: boolean
  /** When stale, since when the posts are kept (ms since the epoch). */
  since?: number
  /** The backend refused the call (401, 403...): its status. */
  refused?: number
}

// The last good answer per user, for 30 s: the same stale-if-error window
// the gateway gives the session (validate.staleIfError). Keyed by user, so
// one user never sees another's data; bounded, and lost on a restart.
const STALE_MS = 30_000
const lastGood = new Map<string, { posts: Post[]; at: number }>()

/**
 * loadPosts fetches the user's posts. When the backend is unavailable
 * (connection refused, timeout, 5xx) it returns the last posts it got for
 * this user within 30 s, marked stale, or none: the page renders either way.
 * A refusal (401, 403) is not an outage: no posts, and its status. (A 401
 * happens when the backend ended a session the gateway still holds as valid
 * in its validation cache, validate.cacheTTL: the next request after that
 * is refreshed or signed out by the gateway.)
 */
export async function loadPosts(userKey: string): Promise<Posts> {
  try {
    const res = await api.get<{ data?: Post[] }>('posts')
    const posts = res.data ?? []
    if (lastGood.size > 1000) lastGood.clear()
    lastGood.set(userKey, { posts, at: Date.now() })
    return { posts, stale: false }
  } catch (e) {
    if (e instanceof ApiError && e.status < 500) return { posts: [], stale: false, refused: e.status }
    if (!(e instanceof NetworkError || e instanceof ApiError)) throw e
    const kept = lastGood.get(userKey)
    if (kept && Date.now() - kept.at < STALE_MS) return { posts: kept.posts, stale: true, since: kept.at }
    return { posts: [], stale: true }
  }
}
