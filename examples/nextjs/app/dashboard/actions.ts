'use server'

import { ApiError, getServerUser } from '@apilayer/next'
import { api } from '../../lib/api'
import type { User } from '../../lib/user'

export interface NoteState {
  message?: string
  error?: string
}

// sendNote is a server action: the browser POSTs to /dashboard through the
// gateway (CSRF-checked, identity verified), and the action calls the
// backend as the signed-in user.
export async function sendNote(_prev: NoteState, form: FormData): Promise<NoteState> {
  const user = await getServerUser<User>()
  if (!user) return { error: 'Not signed in.' }
  const note = String(form.get('note') ?? '').slice(0, 200)
  try {
    const res = await api.post<{ data?: { method?: string; type?: string; body?: { note?: string } } }>('echo', { note })
    return { message: `The backend got "${res.data?.body?.note ?? ''}" by ${res.data?.method} from a ${res.data?.type} token of ${user.name}.` }
  } catch (e) {
    return { error: e instanceof ApiError ? `The backend answered ${e.status}.` : 'The backend is unavailable.' }
  }
}
