import type { ApiFetch } from './types'

/** Defaults of the gateway: `csrf.cookieName`, `csrf.headerName`, `api.prefix`. */
export const DEFAULT_CSRF_COOKIE = '__csrf'
export const DEFAULT_CSRF_HEADER = 'x-csrf-token'
export const DEFAULT_BASE_PATH = '/api'
export const DEFAULT_CSRF_ENDPOINT = '/api/auth/csrf'

/** authEndpoint returns the built-in auth API endpoint name below basePath (default `/api`). */
export function authEndpoint(basePath: string | undefined, name: string): string {
  return `${(basePath ?? DEFAULT_BASE_PATH).replace(/\/+$/, '')}/auth/${name}`
}

const CSRF_FAILED = 'CSRF validation failed.'

export interface ApiFetchOptions {
  /** The gateway's `api.prefix`, below which the CSRF endpoint is. Default `/api`. */
  basePath?: string
  /** Default `__csrf`. */
  csrfCookieName?: string
  /** Default `x-csrf-token`. */
  csrfHeaderName?: string
  /** Asked for a token when the cookie is missing. Default `{basePath}/auth/csrf`. */
  csrfEndpoint?: string
  /** Methods sent without the CSRF header. Default GET, HEAD, OPTIONS, TRACE. */
  safeMethods?: string[]
  /** Default `include`, so a gateway on another (CORS-allowed) origin gets its cookies. */
  credentials?: RequestCredentials
  /** Called on a 401 answer. Default: {@link revalidateAuth}. */
  onUnauthorized?: () => unknown
}

/** readCookie returns the value of a cookie that scripts may read, or null. */
export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim()
      try {
        return decodeURIComponent(raw)
      } catch {
        return raw
      }
    }
  }
  return null
}

/**
 * getCsrfToken returns the CSRF token: the CSRF cookie's value, else (or
 * when force is set) the token that `GET csrfEndpoint` issues, else null.
 */
export async function getCsrfToken(options: ApiFetchOptions = {}, force = false): Promise<string | null> {
  const fromCookie = force ? null : readCookie(options.csrfCookieName ?? DEFAULT_CSRF_COOKIE)
  if (fromCookie) return fromCookie
  try {
    const res = await fetch(options.csrfEndpoint ?? authEndpoint(options.basePath, 'csrf'), {
      credentials: options.credentials ?? 'include',
      headers: { Accept: 'application/json' },
    })
    if (!res.ok) return null
    const json = (await res.json()) as { data?: { token?: unknown } }
    return typeof json?.data?.token === 'string' ? json.data.token : null
  } catch {
    return null
  }
}

type Revalidator = () => unknown
const revalidators = new Set<Revalidator>()

/** registerRevalidator adds fn to what {@link revalidateAuth} calls; the result removes it. */
export function registerRevalidator(fn: Revalidator): () => void {
  revalidators.add(fn)
  return () => {
    revalidators.delete(fn)
  }
}

/** revalidateAuth asks every mounted AuthProvider to fetch the user again. */
export async function revalidateAuth(): Promise<void> {
  await Promise.allSettled([...revalidators].map(async (fn) => fn()))
}

function replayable(body: BodyInit | null | undefined): boolean {
  return !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)
}

async function isCsrfFailure(res: Response): Promise<boolean> {
  if (res.status !== 403 || !(res.headers.get('content-type') ?? '').includes('json')) return false
  try {
    const json = (await res.clone().json()) as { code?: unknown; message?: unknown }
    // The code since gateway 0.2; the sentence for older gateways.
    return json?.code === 'csrf' || json?.message === CSRF_FAILED
  } catch {
    return false
  }
}

/**
 * createApiFetch returns a `fetch` that sends credentials, adds the CSRF
 * header (from the CSRF cookie, or from `GET csrfEndpoint`) to unsafe
 * methods, retries once with a fresh token when the gateway answers
 * `403 CSRF validation failed.`, and revalidates the user on a 401.
 */
export function createApiFetch(options: ApiFetchOptions = {}): ApiFetch {
  const header = options.csrfHeaderName ?? DEFAULT_CSRF_HEADER
  const safe = (options.safeMethods ?? ['GET', 'HEAD', 'OPTIONS', 'TRACE']).map((m) => m.toUpperCase())

  return async function apiFetch(input, init = {}) {
    const request = typeof Request !== 'undefined' && input instanceof Request ? input : null
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase()
    const send = async (forceToken: boolean): Promise<Response> => {
      const headers = new Headers(init.headers ?? request?.headers)
      if (!safe.includes(method) && (forceToken || !headers.has(header))) {
        const token = await getCsrfToken(options, forceToken)
        if (token) headers.set(header, token)
      }
      return fetch(input, { ...init, method, headers, credentials: init.credentials ?? options.credentials ?? 'include' })
    }
    let res = await send(false)
    if (!safe.includes(method) && !request && replayable(init.body) && (await isCsrfFailure(res))) {
      res = await send(true)
    }
    if (res.status === 401) {
      try {
        await (options.onUnauthorized ?? revalidateAuth)()
      } catch {
        // revalidation failures are reported by the provider's onError
      }
    }
    return res
  }
}

/** apiFetch is {@link createApiFetch} with the gateway's defaults. */
export const apiFetch: ApiFetch = createApiFetch()
