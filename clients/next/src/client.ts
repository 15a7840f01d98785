import { ApiError, NetworkError, TimeoutError } from './errors'
import type { RequestLike } from './request'
import { backoff, resolveRetry, retryAfter, sleep as defaultSleep, type ResolvedRetry, type RetryOptions } from './retry'
import { createAuth, defaultAuthFromEnv, type Auth, type AuthOptions } from './session'

/** Method spoofing sends PUT, PATCH and DELETE as POST (Laravel, Rails). */
export interface MethodSpoofingOptions {
  /** `body` (default): a `fieldName` field in a JSON object, FormData or URLSearchParams body; `header`: X-HTTP-Method-Override. */
  strategy?: 'body' | 'header'
  /** Default `_method`. */
  fieldName?: string
}

export interface ApiClientOptions {
  /** The backend's base URL, such as `http://backend:8000/api/`. Endpoints are resolved below it. */
  baseURL: string
  /**
   * Read the token and locale from this request (Pages Router, plain Node).
   * Unset (and no token): the current App Router request, through next/headers.
   */
  req?: RequestLike
  /** A fixed token, or a function returning it. Set: the request is not read (pass locale yourself). */
  token?: string | null | (() => string | null | Promise<string | null>)
  /** How requests are read (cookie names, signed identity). Default: the environment's configuration. */
  auth?: Auth | AuthOptions
  /** Call without a token by default (public backends). Default false: a call with no token throws ApiError `no_token`. */
  skipAuth?: boolean
  /** Headers sent with every call. `Accept: application/json` unless set here. */
  headers?: HeadersInit
  /** Milliseconds each attempt may take, answer body included. Default 30000. */
  timeout?: number
  /** Retries of idempotent calls. Default off; `true` uses the defaults of {@link RetryOptions}. */
  retry?: boolean | RetryOptions
  /** Identical concurrent GETs of one user share one backend call. Default true. */
  dedupe?: boolean
  /** Default off; `true` is the body strategy with `_method`. */
  methodSpoofing?: boolean | MethodSpoofingOptions
  /** The locale query parameter (`i18n.paramName`) and the locales allowed; `false` sends none. Default `{paramName: 'lang'}`. */
  i18n?: false | { paramName?: string; locales?: string[] }
  /** fetch's cache mode. Default `no-store`: answers are per user. */
  cache?: RequestCache
  /** The fetch used. Default globalThis.fetch. */
  fetch?: typeof fetch
  /** Called before each retry, e.g. to log it. */
  onRetry?: (info: RetryInfo) => void
  /** The current time in ms (to read Retry-After dates). For tests. */
  now?: () => number
  /** Waits before a retry. For tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  /** A number in [0, 1) for the jitter. For tests. */
  random?: () => number
}

export interface RetryInfo {
  method: string
  endpoint: string
  /** The attempt that failed (1 for the first). */
  attempt: number
  /** The wait before the next attempt, in ms. */
  delay: number
  /** `status 503`, `timeout`, `network error`, with `, Retry-After` when the delay came from it. */
  reason: string
}

export interface RequestOptions {
  /** Headers of this call. */
  headers?: HeadersInit
  /** Query parameters added to the endpoint's. */
  query?: Record<string, string | number | boolean | null | undefined | (string | number | boolean)[]>
  /** Overrides the client's timeout (ms per attempt). */
  timeout?: number
  /** Cancels this call (and only this caller's wait when the call is shared). */
  signal?: AbortSignal
  retry?: boolean | RetryOptions
  dedupe?: boolean
  methodSpoofing?: boolean
  /** Read the token and locale from this request. */
  req?: RequestLike
  /** Use this token (null: none); the request is not read. */
  token?: string | null
  /** Send no token. */
  skipAuth?: boolean
  /** Send this locale (null: none). */
  locale?: string | null
  cache?: RequestCache
}

/** What {@link ApiClient.request} resolves to. */
export interface ApiResponse<T> {
  status: number
  headers: Headers
  /** The parsed JSON body, the text of another body, or undefined when empty. */
  data: T
}

export type Body = object | string | number | boolean | null | undefined

export interface ApiClient {
  request<T = unknown>(method: string, endpoint: string, options?: RequestOptions & { body?: Body }): Promise<ApiResponse<T>>
  get<T = unknown>(endpoint: string, options?: RequestOptions): Promise<T>
  post<T = unknown>(endpoint: string, body?: Body, options?: RequestOptions): Promise<T>
  put<T = unknown>(endpoint: string, body?: Body, options?: RequestOptions): Promise<T>
  patch<T = unknown>(endpoint: string, body?: Body, options?: RequestOptions): Promise<T>
  delete<T = unknown>(endpoint: string, options?: RequestOptions & { body?: Body }): Promise<T>
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const SPOOFABLE = new Set(['PUT', 'PATCH', 'DELETE'])

/** Outcome is an answer read whole, or the error that prevented one. */
interface Outcome {
  status: number
  headers: Headers
  text: string
}

interface Prepared {
  method: string
  wire: string
  endpoint: string
  url: string
  headers: Headers
  body: BodyInit | undefined
  replayable: boolean
  token: string | null
  locale: string | null
  retry: ResolvedRetry
  timeout: number
  callHeaders: Headers
}

interface Flight {
  promise: Promise<Outcome>
  controller: AbortController
  waiters: number
}

function isPlainBody(v: unknown): v is Record<string, unknown> | unknown[] {
  if (typeof v !== 'object' || v === null) return false
  if (Array.isArray(v)) return true
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** hashToken returns the SHA-256 of a token in hex, for dedupe keys. */
async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

/**
 * resolveEndpoint joins endpoint below base. It refuses what could leave the
 * base path: absolute URLs, `.` and `..` segments (percent-encoded too) and
 * backslashes, so an endpoint built from user input ("users/" + id) cannot
 * reach another API.
 */
function resolveEndpoint(base: URL, endpoint: string): { url: URL; path: string } {
  const trimmed = endpoint.replace(/^\/+/, '')
  const cut = trimmed.search(/[?#]/)
  const path = cut < 0 ? trimmed : trimmed.slice(0, cut)
  const bad = (why: string) => new TypeError(`@apilayer/next: bad endpoint ${JSON.stringify(path)}: ${why}`)
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path)) throw bad('not a path')
  if (path.includes('\\')) throw bad('backslash')
  for (const seg of path.split('/')) {
    let decoded: string
    try {
      decoded = decodeURIComponent(seg)
    } catch {
      throw bad('invalid percent-encoding')
    }
    if (decoded === '.' || decoded === '..' || decoded.includes('/') || decoded.includes('\\')) throw bad('dot segment or encoded slash')
  }
  const url = new URL(trimmed.replace(/#.*$/, ''), base)
  return { url, path }
}

/**
 * createApiClient returns a client for the backend that sends the token and
 * locale of the request being served: the App Router request by default
 * (next/headers), or the `req` given to the client or to a call.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  let base: URL
  try {
    base = new URL(options.baseURL)
  } catch {
    throw new TypeError(`@apilayer/next: baseURL: must be an absolute http or https URL (got ${JSON.stringify(options.baseURL)})`)
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`@apilayer/next: baseURL: must be an absolute http or https URL (got ${JSON.stringify(options.baseURL)})`)
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/'
  base.search = ''
  base.hash = ''

  const auth: Auth | undefined =
    options.auth === undefined ? undefined : 'read' in options.auth ? (options.auth as Auth) : createAuth(options.auth as AuthOptions)
  const authOf = () => auth ?? defaultAuthFromEnv()
  const clientRetry = resolveRetry(options.retry)
  const timeoutDefault = options.timeout ?? 30_000
  const spoofOn = options.methodSpoofing !== undefined && options.methodSpoofing !== false
  const spoofing = {
    strategy: 'body' as 'body' | 'header',
    fieldName: '_method',
    ...(typeof options.methodSpoofing === 'object' ? options.methodSpoofing : {}),
  }
  const i18n = options.i18n === false ? null : { paramName: options.i18n?.paramName ?? 'lang', locales: options.i18n?.locales }
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
  const now = options.now ?? Date.now
  const wait = options.sleep ?? defaultSleep
  const random = options.random ?? Math.random
  const inflight = new Map<string, Flight>()

  /** identity returns the token and locale of a call. */
  async function identity(method: string, endpoint: string, o: RequestOptions): Promise<{ token: string | null; locale: string | null }> {
    const skip = o.skipAuth ?? options.skipAuth ?? false
    let token: string | null = null
    let locale: string | null = null
    const req = o.req ?? options.req
    const explicitToken = 'token' in o ? o.token ?? null : undefined
    const clientToken = options.token
    // The request is read when one was given, or when nothing else says who
    // the caller is (the App Router default).
    const readRequest = req !== undefined || (explicitToken === undefined && clientToken === undefined && !skip)
    if (readRequest) {
      const r = await authOf().read(req)
      token = r.token
      locale = r.session.locale
    }
    if (explicitToken !== undefined) token = explicitToken
    else if (clientToken !== undefined) token = typeof clientToken === 'function' ? ((await clientToken()) ?? null) : clientToken
    if (skip) token = null
    else if (!token) {
      throw new ApiError({
        status: 401,
        method,
        endpoint,
        code: 'no_token',
        message: 'no token: the request has no session (use skipAuth for public endpoints)',
      })
    }
    if ('locale' in o) locale = o.locale ?? null
    if (!i18n || (locale && i18n.locales && !i18n.locales.includes(locale))) locale = null
    return { token, locale }
  }

  async function prepare(method: string, endpoint: string, body: Body, o: RequestOptions): Promise<Prepared> {
    const { url, path } = resolveEndpoint(base, endpoint)
    const { token, locale } = await identity(method, path, o)
    for (const [k, v] of Object.entries(o.query ?? {})) {
      if (v === undefined || v === null) continue
      url.searchParams.delete(k)
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item))
    }
    if (i18n && locale) url.searchParams.set(i18n.paramName, locale)

    const headers = new Headers(options.headers)
    if (!headers.has('accept')) headers.set('accept', 'application/json')
    const callHeaders = new Headers(o.headers)
    callHeaders.forEach((v, k) => headers.set(k, v))
    if (token) headers.set('authorization', `Bearer ${token}`)
    else headers.delete('authorization')

    // The body, and method spoofing.
    const spoof = (o.methodSpoofing ?? spoofOn) && SPOOFABLE.has(method)
    const field = spoof && spoofing.strategy === 'body' ? spoofing.fieldName : undefined
    let payload: BodyInit | undefined
    let replayable = true
    let carried = false // the body carries the spoofed method
    if (body === undefined || body === null) {
      if (field) {
        payload = JSON.stringify({ [field]: method })
        headers.set('content-type', 'application/json')
        carried = true
      }
    } else if (typeof FormData !== 'undefined' && body instanceof FormData) {
      if (field) {
        const copy = new FormData() // never change the caller's FormData
        body.forEach((v, k) => copy.append(k, v))
        copy.set(field, method)
        payload = copy
        carried = true
      } else payload = body
    } else if (body instanceof URLSearchParams) {
      if (field) {
        const copy = new URLSearchParams(body)
        copy.set(field, method)
        payload = copy
        carried = true
      } else payload = body
    } else if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
      payload = body
      replayable = false
    } else if (
      typeof body === 'string' ||
      (typeof Blob !== 'undefined' && body instanceof Blob) ||
      body instanceof ArrayBuffer ||
      ArrayBuffer.isView(body)
    ) {
      payload = body as BodyInit
    } else if (isPlainBody(body) || typeof body !== 'object') {
      let value: unknown = body
      if (field && isPlainBody(body) && !Array.isArray(body)) {
        value = { ...body, [field]: method }
        carried = true
      }
      payload = JSON.stringify(value)
      if (!headers.has('content-type')) headers.set('content-type', 'application/json')
    } else {
      throw new TypeError('@apilayer/next: body: expected a plain object, an array, FormData, URLSearchParams, a string, a Blob or bytes')
    }
    if (spoof && !carried) headers.set('x-http-method-override', method)

    return {
      method,
      wire: spoof ? 'POST' : method,
      endpoint: path,
      url: url.toString(),
      headers,
      body: payload,
      replayable,
      token,
      locale,
      retry: o.retry === undefined ? clientRetry : resolveRetry(o.retry, { ...clientRetry, enabled: false }),
      timeout: o.timeout ?? timeoutDefault,
      callHeaders,
    }
  }

  /** attempt sends p once and reads the whole answer within p.timeout. */
  async function attempt(p: Prepared, signal: AbortSignal, cache: RequestCache): Promise<Outcome> {
    const timer = new AbortController()
    const t = setTimeout(() => timer.abort(), p.timeout)
    const both = AbortSignal.any([signal, timer.signal])
    try {
      const init: RequestInit & { duplex?: 'half' } = { method: p.wire, headers: p.headers, body: p.body, signal: both, cache }
      if (!p.replayable) init.duplex = 'half'
      const res = await doFetch(p.url, init)
      let text = ''
      if (p.method === 'HEAD') await res.body?.cancel()
      else text = await res.text()
      return { status: res.status, headers: res.headers, text }
    } catch (e) {
      if (signal.aborted) throw signal.reason
      if (timer.signal.aborted) throw new TimeoutError(p.method, p.endpoint, p.timeout)
      throw new NetworkError(p.method, p.endpoint, e)
    } finally {
      clearTimeout(t)
    }
  }

  /** execute runs the attempts of a call until one is final. */
  async function execute(p: Prepared, signal: AbortSignal, cache: RequestCache): Promise<Outcome> {
    const r = p.retry
    for (let n = 1; ; n++) {
      let out: Outcome | undefined
      let err: unknown
      try {
        out = await attempt(p, signal, cache)
      } catch (e) {
        if (signal.aborted) throw signal.reason
        err = e
      }
      let retryable: boolean
      let reason: string
      if (err instanceof TimeoutError) {
        retryable = r.retryOn.includes(408)
        reason = 'timeout'
      } else if (err instanceof NetworkError) {
        retryable = r.networkErrors
        reason = 'network error'
      } else if (err !== undefined) {
        throw err
      } else {
        retryable = r.retryOn.includes(out!.status)
        reason = `status ${out!.status}`
      }
      const last = () => {
        if (err !== undefined) throw err
        return out!
      }
      if (!retryable || !r.enabled || !IDEMPOTENT.has(p.method) || !p.replayable || n >= r.attempts) return last()
      let delay = backoff(r, n, random)
      if (out && (out.status === 429 || out.status === 503)) {
        const after = retryAfter(out.headers.get('retry-after'), now())
        if (after !== undefined) {
          if (after > r.maxDelay) return last() // the answer says: not soon
          delay = after
          reason += ', Retry-After'
        }
      }
      options.onRetry?.({ method: p.method, endpoint: p.endpoint, attempt: n, delay, reason })
      await wait(delay, signal)
    }
  }

  async function dedupeKey(p: Prepared): Promise<string> {
    const parts = [p.method, p.url, p.token ? await hashToken(p.token) : '', p.locale ?? '']
    const own: string[] = []
    p.callHeaders.forEach((v, k) => own.push(`${k}:${v}`))
    return [...parts, ...own.sort()].join('\u0000')
  }

  /**
   * shared runs p once for every concurrent caller with the same key. The
   * call runs detached from any one caller: a caller whose signal aborts
   * stops waiting without failing the others, and the call is aborted when
   * the last caller has left.
   */
  function shared(key: string, p: Prepared, signal: AbortSignal | undefined, cache: RequestCache): Promise<Outcome> {
    let f = inflight.get(key)
    if (!f) {
      const controller = new AbortController()
      const flight: Flight = { controller, waiters: 0, promise: Promise.resolve() as unknown as Promise<Outcome> }
      flight.promise = execute(p, controller.signal, cache).finally(() => {
        if (inflight.get(key) === flight) inflight.delete(key)
      })
      flight.promise.catch(() => undefined)
      inflight.set(key, flight)
      f = flight
    }
    const flight = f
    flight.waiters++
    if (!signal) return flight.promise
    return new Promise<Outcome>((resolve, reject) => {
      const leave = () => {
        flight.waiters--
        if (flight.waiters === 0) {
          if (inflight.get(key) === flight) inflight.delete(key)
          flight.controller.abort(signal.reason)
        }
        reject(signal.reason)
      }
      if (signal.aborted) return leave()
      signal.addEventListener('abort', leave, { once: true })
      flight.promise.then(
        (v) => {
          signal.removeEventListener('abort', leave)
          resolve(v)
        },
        (e) => {
          signal.removeEventListener('abort', leave)
          reject(e)
        },
      )
    })
  }

  function finish<T>(p: Prepared, out: Outcome): ApiResponse<T> {
    let data: unknown = undefined
    const type = out.headers.get('content-type') ?? ''
    const ok = out.status >= 200 && out.status < 300
    if (out.text !== '') {
      if (/json/i.test(type)) {
        try {
          data = JSON.parse(out.text)
        } catch {
          if (ok) throw new ApiError({ status: out.status, body: out.text, method: p.method, endpoint: p.endpoint, headers: out.headers, message: 'the answer is not valid JSON' })
          data = out.text
        }
      } else {
        data = out.text
      }
    }
    if (!ok) throw new ApiError({ status: out.status, body: data, method: p.method, endpoint: p.endpoint, headers: out.headers })
    return { status: out.status, headers: out.headers, data: data as T }
  }

  async function request<T>(method: string, endpoint: string, o: RequestOptions & { body?: Body } = {}): Promise<ApiResponse<T>> {
    const m = method.toUpperCase()
    const p = await prepare(m, endpoint, o.body, o)
    const cache = o.cache ?? options.cache ?? 'no-store'
    o.signal?.throwIfAborted()
    const dedupe = (o.dedupe ?? options.dedupe ?? true) && m === 'GET' && p.body === undefined
    let out: Outcome
    if (dedupe) {
      out = await shared(await dedupeKey(p), p, o.signal, cache)
    } else {
      out = await execute(p, o.signal ?? new AbortController().signal, cache)
    }
    return finish<T>(p, out)
  }

  return {
    request,
    get: async (endpoint, o) => (await request('GET', endpoint, o)).data as never,
    post: async (endpoint, body, o) => (await request('POST', endpoint, { ...o, body })).data as never,
    put: async (endpoint, body, o) => (await request('PUT', endpoint, { ...o, body })).data as never,
    patch: async (endpoint, body, o) => (await request('PATCH', endpoint, { ...o, body })).data as never,
    delete: async (endpoint, o) => (await request('DELETE', endpoint, o)).data as never,
  }
}
