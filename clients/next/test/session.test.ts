import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAuth, getServerToken, getServerUser, getSession, readCookie } from '../src'
import { setAppRequest } from './next-headers'
import { alice, b64, guest, nodeRequest } from './server'

afterEach(() => {
  setAppRequest(null)
  vi.unstubAllEnvs()
})

// Each row is read as a Node IncomingMessage and as a Fetch Request.
const sessionRows: {
  name: string
  headers: Record<string, string>
  want: { user: unknown; tokenType: string | null; isAuthenticated: boolean; isGuest: boolean; locale: string | null; userTruncated?: boolean }
}[] = [
  {
    name: 'a signed-in user with a locale (UTF-8 name)',
    headers: { 'x-auth-user': b64(alice), 'x-auth-token-type': 'user', 'x-locale': 'tr' },
    want: { user: alice, tokenType: 'user', isAuthenticated: true, isGuest: false, locale: 'tr' },
  },
  {
    name: 'a guest',
    headers: { 'x-auth-user': b64(guest), 'x-auth-token-type': 'guest' },
    want: { user: guest, tokenType: 'guest', isAuthenticated: false, isGuest: true, locale: null },
  },
  {
    name: 'another token type is authenticated',
    headers: { 'x-auth-user': b64({ id: 7 }), 'x-auth-token-type': 'service' },
    want: { user: { id: 7 }, tokenType: 'service', isAuthenticated: true, isGuest: false, locale: null },
  },
  {
    name: 'a user without a token type is a user',
    headers: { 'x-auth-user': b64({ id: 7 }) },
    want: { user: { id: 7 }, tokenType: 'user', isAuthenticated: true, isGuest: false, locale: null },
  },
  {
    name: 'no headers: anonymous',
    headers: {},
    want: { user: null, tokenType: null, isAuthenticated: false, isGuest: false, locale: null },
  },
  {
    name: 'a user token type without a user is not authenticated',
    headers: { 'x-auth-token-type': 'user' },
    want: { user: null, tokenType: 'user', isAuthenticated: false, isGuest: false, locale: null },
  },
  {
    name: 'a guest whose token was minted in this request (no user yet)',
    headers: { 'x-auth-token-type': 'guest', 'x-refreshed-token': 'g' },
    want: { user: null, tokenType: 'guest', isAuthenticated: false, isGuest: true, locale: null },
  },
  {
    name: 'not base64',
    headers: { 'x-auth-user': '{"id":1}', 'x-auth-token-type': 'user' },
    want: { user: null, tokenType: 'user', isAuthenticated: false, isGuest: false, locale: null },
  },
  {
    name: 'base64 of a JSON array',
    headers: { 'x-auth-user': b64([1, 2]), 'x-auth-token-type': 'user' },
    want: { user: null, tokenType: 'user', isAuthenticated: false, isGuest: false, locale: null },
  },
  {
    name: 'base64 of bytes that are not UTF-8',
    headers: { 'x-auth-user': Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), 'x-auth-token-type': 'user' },
    want: { user: null, tokenType: 'user', isAuthenticated: false, isGuest: false, locale: null },
  },
  {
    name: 'a reduced user object',
    headers: { 'x-auth-user': b64({ id: 1 }), 'x-auth-token-type': 'user', 'x-auth-user-truncated': '1' },
    want: { user: { id: 1 }, tokenType: 'user', isAuthenticated: true, isGuest: false, locale: null, userTruncated: true },
  },
]

describe('getSession (unsigned mode)', () => {
  for (const row of sessionRows) {
    it(`${row.name}: IncomingMessage`, async () => {
      const s = await getSession(nodeRequest(row.headers))
      expect(s).toEqual({ userTruncated: false, verified: false, ...row.want })
    })
    it(`${row.name}: Fetch Request`, async () => {
      const s = await getSession(new Request('http://app.test/', { headers: row.headers }))
      expect(s).toEqual({ userTruncated: false, verified: false, ...row.want })
    })
  }

  it('reads the App Router request through next/headers', async () => {
    setAppRequest({ 'x-auth-user': b64(alice), 'x-auth-token-type': 'user', 'x-locale': 'en' })
    const s = await getSession()
    expect(s.user).toEqual(alice)
    expect(s.isAuthenticated).toBe(true)
    expect(s.locale).toBe('en')
    expect(await getServerUser()).toEqual(alice)
  })

  it("lets next/headers' errors through (Next uses them to mark routes dynamic)", async () => {
    await expect(getSession()).rejects.toThrow('outside a request scope')
  })

  it('refuses something that is not a request', async () => {
    await expect(getSession({} as never)).rejects.toThrow(TypeError)
  })

  it('reads a real IncomingMessage on a node:http server', async () => {
    const server = createServer(async (req: IncomingMessage, res) => {
      const s = await getSession(req)
      const token = await getServerToken(req)
      res.end(JSON.stringify({ s, token }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
      const res = await fetch(url, {
        headers: { 'X-Auth-User': b64(alice), 'X-Auth-Token-Type': 'user', Cookie: 'a=1; userAuthToken=tok-u' },
      })
      const got = (await res.json()) as { s: { user: unknown; isAuthenticated: boolean }; token: string }
      expect(got.s.user).toEqual(alice)
      expect(got.s.isAuthenticated).toBe(true)
      expect(got.token).toBe('tok-u')
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })
})

describe('getServerUser', () => {
  const rows: { name: string; headers: Record<string, string>; want: unknown }[] = [
    { name: 'a user', headers: { 'x-auth-user': b64(alice), 'x-auth-token-type': 'user' }, want: alice },
    { name: 'a guest is not a user', headers: { 'x-auth-user': b64(guest), 'x-auth-token-type': 'guest' }, want: null },
    { name: 'anonymous', headers: {}, want: null },
  ]
  for (const row of rows) {
    it(row.name, async () => {
      expect(await getServerUser(nodeRequest(row.headers))).toEqual(row.want)
    })
  }
})

describe('getServerToken', () => {
  const rows: { name: string; headers: Record<string, string>; want: string | null; options?: Parameters<typeof createAuth>[0] }[] = [
    {
      name: 'the token refreshed in this request wins',
      headers: { 'x-refreshed-token': 'fresh', cookie: 'userAuthToken=stale; guestAuthToken=g' },
      want: 'fresh',
    },
    { name: 'else the user cookie', headers: { cookie: 'guestAuthToken=g; userAuthToken=u' }, want: 'u' },
    { name: 'else the guest cookie', headers: { cookie: 'guestAuthToken=g' }, want: 'g' },
    { name: 'an empty user cookie is absent', headers: { cookie: 'userAuthToken=; guestAuthToken=g' }, want: 'g' },
    { name: 'the first of two same-named cookies', headers: { cookie: 'userAuthToken=first; userAuthToken=second' }, want: 'first' },
    { name: 'a name padded with spaces and tabs', headers: { cookie: 'x=1;\t userAuthToken =u' }, want: 'u' },
    { name: 'none: null (also when the gateway hides tokens)', headers: { cookie: 'other=1' }, want: null },
    {
      name: 'custom cookie names',
      headers: { cookie: 'userAuthToken=no; sess=mine' },
      want: 'mine',
      options: { cookies: { user: 'sess', guest: 'gsess' } },
    },
  ]
  for (const row of rows) {
    it(row.name, async () => {
      const get = row.options ? createAuth(row.options).getServerToken : getServerToken
      expect(await get(nodeRequest(row.headers))).toBe(row.want)
      expect(await get(new Request('http://app.test/', { headers: row.headers }))).toBe(row.want)
    })
  }

  it('reads the App Router cookies', async () => {
    setAppRequest({ cookie: 'guestAuthToken=g; userAuthToken=u' })
    expect(await getServerToken()).toBe('u')
    setAppRequest({ 'x-refreshed-token': 'fresh', cookie: 'userAuthToken=u' })
    expect(await getServerToken()).toBe('fresh')
  })
})

describe('readCookie', () => {
  it('decodes percent-encoding and quotes, and ignores pairs without =', () => {
    expect(readCookie('bad; a="x%20y"', 'a')).toBe('x y')
    expect(readCookie(null, 'a')).toBeNull()
    expect(readCookie('a=%E0%A4%A', 'a')).toBe('%E0%A4%A')
  })
})
