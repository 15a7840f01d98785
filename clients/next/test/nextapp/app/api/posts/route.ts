// A route handler calling the backend with the request's token and locale.
import { ApiError, createApiClient } from '@apilayer/next'

export async function GET() {
  const api = createApiClient({ baseURL: process.env.BACKEND_URL ?? 'http://127.0.0.1:9/api/' })
  try {
    return Response.json({ posts: await api.get('posts') })
  } catch (e) {
    if (e instanceof ApiError) return Response.json({ error: e.code ?? e.status }, { status: e.status })
    throw e
  }
}
