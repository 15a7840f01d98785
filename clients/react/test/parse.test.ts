import { describe, expect, it } from 'vitest'
import { asUser, defaultIsGuest, defaultParseResponse } from '../src'

describe('defaultParseResponse', () => {
  const rows: { name: string; json: unknown; want: unknown }[] = [
    { name: 'success envelope', json: { success: true, data: { id: 1, name: 'Alice' } }, want: { id: 1, name: 'Alice' } },
    { name: 'data wraps user', json: { success: true, data: { user: { id: 2 }, token: 't' } }, want: { id: 2 } },
    { name: 'user key', json: { user: { email: 'a@b.c' } }, want: { email: 'a@b.c' } },
    { name: 'bare user', json: { id: 3, type: 'user' }, want: { id: 3, type: 'user' } },
    { name: 'guest with only a type', json: { data: { type: 'guest' } }, want: { type: 'guest' } },
    { name: 'token payload is not a user', json: { success: true, data: { token: 'eyJ…' } }, want: null },
    { name: 'oauth token payload is not a user', json: { data: { access_token: 'a', refresh_token: 'r', token_type: 'bearer', expires_in: 3600 } }, want: null },
    { name: 'token fields are removed', json: { data: { id: 1, accessToken: 'a', refreshToken: 'r', token: 't' } }, want: { id: 1 } },
    { name: 'success false', json: { success: false, data: { id: 1 } }, want: null },
    { name: 'empty id is not identity', json: { data: { id: '' } }, want: null },
    { name: 'array', json: [{ id: 1 }], want: null },
    { name: 'null', json: null, want: null },
    { name: 'string', json: 'alice', want: null },
  ]
  for (const row of rows) {
    it(row.name, () => {
      expect(defaultParseResponse(row.json)).toEqual(row.want)
    })
  }
})

describe('asUser', () => {
  it('copies the object without tokens', () => {
    const src = { id: 1, id_token: 'x', idToken: 'y', access_token: 'z' }
    const user = asUser(src)
    expect(user).toEqual({ id: 1 })
    expect(src.id_token).toBe('x')
  })
})

describe('defaultIsGuest', () => {
  const rows = [
    { name: 'type guest', user: { type: 'guest' }, want: true },
    { name: 'token_type guest', user: { token_type: 'guest' }, want: true },
    { name: 'user', user: { id: 1, type: 'user' }, want: false },
    { name: 'null', user: null, want: false },
  ]
  for (const row of rows) {
    it(row.name, () => expect(defaultIsGuest(row.user)).toBe(row.want))
  }
})
