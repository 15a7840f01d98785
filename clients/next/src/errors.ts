/**
 * ApiError is thrown by the API client when the backend answers with a
 * status outside 2xx, or when a call needs a token and the request has none
 * (status 401, code `no_token`; nothing is sent). `message` and `code` come
 * from a `{success: false, message, code}` body when the backend sent one.
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError'
  /** The HTTP status of the answer. */
  readonly status: number
  /** The answer's body: parsed JSON, text, or undefined when empty. */
  readonly body: unknown
  /** The body's `code` (or `error`) string, or `no_token`, or undefined. */
  readonly code: string | undefined
  /** Field errors of a validation answer (Laravel's 422 `errors`), if any. */
  readonly errors: Record<string, string[]> | undefined
  /** The method of the call (before method spoofing). */
  readonly method: string
  /** The endpoint path, without its query (which may hold secrets). */
  readonly endpoint: string
  /** The answer's headers; empty for `no_token`. */
  readonly headers: Headers

  constructor(init: {
    status: number
    body?: unknown
    method: string
    endpoint: string
    headers?: Headers
    message?: string
    code?: string
  }) {
    const fields = envelope(init.body)
    const message = init.message ?? fields.message ?? `HTTP ${init.status}`
    super(`${init.method} ${init.endpoint}: ${message}`)
    this.status = init.status
    this.body = init.body
    this.code = init.code ?? fields.code
    this.errors = fields.errors
    this.method = init.method
    this.endpoint = init.endpoint
    this.headers = init.headers ?? new Headers()
  }

  /** The backend's own message when its body had one, else the status. */
  get serverMessage(): string | undefined {
    return envelope(this.body).message
  }
}

/**
 * NetworkError is thrown when a call got no answer: the connection was
 * refused or reset, or the body could not be read. `cause` holds fetch's
 * error.
 */
export class NetworkError extends Error {
  override readonly name: string = 'NetworkError'
  readonly method: string
  readonly endpoint: string

  constructor(method: string, endpoint: string, cause: unknown, message?: string) {
    super(`${method} ${endpoint}: ${message ?? `network error: ${describe(cause)}`}`, { cause })
    this.method = method
    this.endpoint = endpoint
  }
}

/** TimeoutError is thrown when an attempt outlived its timeout. */
export class TimeoutError extends NetworkError {
  override readonly name: string = 'TimeoutError'
  /** The timeout, in milliseconds. */
  readonly timeout: number

  constructor(method: string, endpoint: string, timeout: number) {
    super(method, endpoint, undefined, `timed out after ${timeout} ms`)
    this.timeout = timeout
  }
}

/**
 * IdentityError is thrown by the session helpers when signed identity is
 * configured but cannot be checked: the key configuration is unusable, or
 * the JWKS could not be fetched. A missing, forged or expired assertion is
 * not an error: the request is anonymous.
 */
export class IdentityError extends Error {
  override readonly name: string = 'IdentityError'
  constructor(message: string, cause?: unknown) {
    super(`apilayer: ${message}`, cause === undefined ? undefined : { cause })
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message
  }
  return String(e)
}

function envelope(body: unknown): { message?: string; code?: string; errors?: Record<string, string[]> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {}
  const b = body as Record<string, unknown>
  const out: { message?: string; code?: string; errors?: Record<string, string[]> } = {}
  if (typeof b.message === 'string' && b.message !== '') out.message = b.message
  if (typeof b.code === 'string' && b.code !== '') out.code = b.code
  else if (typeof b.error === 'string' && b.error !== '') out.code = b.error
  if (typeof b.errors === 'object' && b.errors !== null && !Array.isArray(b.errors)) {
    const errors: Record<string, string[]> = {}
    for (const [k, v] of Object.entries(b.errors as Record<string, unknown>)) {
      if (Array.isArray(v)) errors[k] = v.map(String)
      else if (v !== undefined && v !== null) errors[k] = [String(v)]
    }
    out.errors = errors
  }
  return out
}
