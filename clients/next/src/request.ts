import type { IncomingHttpHeaders } from 'node:http'

/** The headers the gateway sets on the requests it forwards to the web app. */
export const HEADERS = {
  user: 'x-auth-user',
  tokenType: 'x-auth-token-type',
  locale: 'x-locale',
  refreshedToken: 'x-refreshed-token',
  userTruncated: 'x-auth-user-truncated',
  assertion: 'x-auth-assertion',
} as const

/** The gateway's default cookie names (`cookies.user`, `cookies.guest`). */
export const DEFAULT_COOKIES = { user: 'userAuthToken', guest: 'guestAuthToken' } as const

/**
 * RequestLike is an incoming request: a Fetch `Request` (a route handler's
 * or middleware's `NextRequest`), or Node's `IncomingMessage` (the Pages
 * Router's `req`, Express, `node:http`).
 */
export type RequestLike =
  | Request
  | { headers: Headers }
  | { headers: IncomingHttpHeaders | Record<string, string | string[] | undefined> }

/** Source reads the headers and cookies of one request. */
export interface Source {
  header(name: string): string | null
  cookie(name: string): string | null
}

/** isRequestLike tells a request from an options object. */
export function isRequestLike(v: unknown): v is RequestLike {
  if (typeof v !== 'object' || v === null) return false
  if (typeof Request !== 'undefined' && v instanceof Request) return true
  const h = (v as { headers?: unknown }).headers
  return typeof h === 'object' && h !== null
}

/** fromRequest reads a Fetch Request or a Node IncomingMessage. */
export function fromRequest(req: RequestLike): Source {
  const h = req.headers as unknown
  let header: (name: string) => string | null
  if (typeof (h as Headers).get === 'function') {
    const headers = h as Headers
    header = (name) => headers.get(name)
  } else {
    const headers = h as Record<string, string | string[] | undefined>
    header = (name) => {
      const v = headers[name] ?? headers[name.toLowerCase()]
      if (v === undefined) return null
      return Array.isArray(v) ? v.join(name === 'cookie' ? '; ' : ', ') : v
    }
  }
  return { header, cookie: (name) => readCookie(header('cookie'), name) }
}

/**
 * readCookie returns the value of the first cookie called name in a Cookie
 * header, or null. A name is compared trimmed of spaces and tabs, as the
 * gateway does; an empty value counts as absent.
 */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).replace(/^[ \t]+|[ \t]+$/g, '') !== name) continue
    let value = part.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    try {
      value = decodeURIComponent(value)
    } catch {
      // kept as sent
    }
    return value === '' ? null : value
  }
  return null
}

/**
 * decodeUser decodes X-Auth-User: standard base64 of the UTF-8 JSON user
 * object. Anything else (bad base64, bad UTF-8, bad JSON, not an object)
 * gives null.
 */
export function decodeUser(value: string | null): Record<string, unknown> | null {
  if (!value) return null
  try {
    const bin = atob(value.trim())
    const bytes = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    return isObject(json) ? json : null
  } catch {
    return null
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
