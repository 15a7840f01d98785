// A stand-in for next/headers (aliased in vitest.config.ts): the tests set
// the request an App Router call would be serving.
let current: Headers | null = null

/** setAppRequest makes headers() and cookies() read h; null: outside a request. */
export function setAppRequest(h: Record<string, string> | null): void {
  current = h === null ? null : new Headers(h)
}

function need(): Headers {
  if (!current) throw new Error('`headers` was called outside a request scope')
  return current
}

export async function headers() {
  return need()
}

export async function cookies() {
  const h = need()
  const jar = new Map<string, string>()
  for (const part of (h.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  return {
    get: (name: string) => (jar.has(name) ? { name, value: jar.get(name) as string } : undefined),
  }
}
