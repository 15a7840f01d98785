// A route handler of the app under /api: api.appRoutes in apilayer.yaml
// sends /api/whoami to Next.js (with the identity) instead of the backend.
import { getSession } from '@apilayer/next'

export async function GET() {
  const s = await getSession()
  return Response.json({ via: 'next', user: s.user, tokenType: s.tokenType, verified: s.verified })
}
