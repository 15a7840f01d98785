import type { AuthUser } from '../src'

/** Initial is what the Go demo app renders into the page from the gateway's X-Auth-User header. */
export interface Initial {
  page: 'home' | 'login' | 'dashboard' | 'admin' | 'forbidden' | 'notfound'
  user: AuthUser | null
  tokenType: string
  requestId: string
}

export function readInitial(): Initial {
  const el = document.getElementById('apilayer-initial')
  try {
    const v = JSON.parse(el?.textContent ?? '') as Partial<Initial>
    return { page: v.page ?? 'notfound', user: v.user ?? null, tokenType: v.tokenType ?? '', requestId: v.requestId ?? '' }
  } catch {
    return { page: 'notfound', user: null, tokenType: '', requestId: '' }
  }
}
