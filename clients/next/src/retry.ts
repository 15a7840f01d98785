/** RetryOptions configures retries of idempotent calls (GET, HEAD, OPTIONS, PUT, DELETE). */
export interface RetryOptions {
  /** Default true when an object is given. */
  enabled?: boolean
  /** Attempts in all, the first included. Default 3. */
  attempts?: number
  /** The first delay in ms; it doubles after each failed attempt. Default 250. */
  baseDelay?: number
  /** The longest delay in ms. A Retry-After longer than this ends the retries. Default 10000. */
  maxDelay?: number
  /** In [0, 1]: each delay is spread over [d*(1-jitter), d*(1+jitter)]. Default 0.5. */
  jitter?: number
  /** The statuses retried; 408 also covers timeouts. Default 408, 429, 500, 502, 503, 504. */
  retryOn?: number[]
  /** Retry connection errors (refused, reset). Default true. */
  networkErrors?: boolean
}

export type ResolvedRetry = Required<RetryOptions>

export const RETRYABLE_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504]

const DEFAULT_RETRY: ResolvedRetry = {
  enabled: false,
  attempts: 3,
  baseDelay: 250,
  maxDelay: 10_000,
  jitter: 0.5,
  retryOn: [...RETRYABLE_STATUSES],
  networkErrors: true,
}

/**
 * resolveRetry merges a retry setting over base: false turns retries off,
 * true turns them on with base's settings, an object overrides field by
 * field and turns them on unless it says `enabled: false`.
 */
export function resolveRetry(setting: boolean | RetryOptions | undefined, base: ResolvedRetry = DEFAULT_RETRY): ResolvedRetry {
  if (setting === undefined) return base
  if (typeof setting === 'boolean') return { ...base, enabled: setting }
  const out: ResolvedRetry = { ...base, enabled: true }
  for (const [k, v] of Object.entries(setting)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v
  }
  if (!Number.isInteger(out.attempts) || out.attempts < 1) throw new TypeError(`retry.attempts: must be a whole number >= 1 (got ${out.attempts})`)
  if (!(out.baseDelay >= 0) || !(out.maxDelay >= 0)) throw new TypeError('retry.baseDelay and retry.maxDelay: must be >= 0')
  if (!(out.jitter >= 0 && out.jitter <= 1)) throw new TypeError(`retry.jitter: must be in [0, 1] (got ${out.jitter})`)
  return out
}

/** backoff returns the delay in ms after the failed attempt n (1-based). */
export function backoff(r: ResolvedRetry, n: number, random: () => number): number {
  let d = r.baseDelay
  for (let i = 1; i < n && d < r.maxDelay; i++) d *= 2
  if (r.jitter > 0) d *= 1 - r.jitter + 2 * r.jitter * random()
  return Math.round(Math.min(d, r.maxDelay))
}

/**
 * retryAfter reads a Retry-After header: delay-seconds or an HTTP date,
 * in ms from now (a past date is 0). Undefined when absent or unreadable.
 */
export function retryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  // An HTTP date (IMF-fixdate, or the obsolete RFC 850 and asctime forms, which Date.parse reads).
  if (!/^[A-Za-z]{3}/.test(v)) return undefined
  const t = Date.parse(v)
  if (Number.isNaN(t)) return undefined
  return Math.max(t - now, 0)
}

/** sleep waits ms, or rejects with signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, Math.max(ms, 0))
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
