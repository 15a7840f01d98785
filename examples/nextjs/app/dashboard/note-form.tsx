'use client'

import { useActionState } from 'react'
import { sendNote, type NoteState } from './actions'

export function NoteForm() {
  const [state, action, pending] = useActionState<NoteState, FormData>(sendNote, {})
  return (
    <form id="note" action={action} style={{ display: 'flex', gap: '.5rem' }}>
      <input name="note" placeholder="a note for the backend" defaultValue="hello" />
      <button type="submit" disabled={pending}>
        Send
      </button>
      {state.message && <output id="note-result">{state.message}</output>}
      {state.error && <output id="note-error">{state.error}</output>}
    </form>
  )
}
