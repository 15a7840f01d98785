// Signed identity: X-Auth-Assertion verified with keys generated here.
import { SignJWT, UnsecuredJWT, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type JWK } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { IdentityError, createAuth, getServerToken, getSession, type AuthOptions } from '../src'
import { setAppRequest } from './next-headers'
import { alice, b64, guest, nodeRequest, startBackend, type Backend } from './server'

type Alg = 'EdDSA' | 'ES256' | 'RS256'
interface Pair {
  privateKey: CryptoKey
  pem: string
  jwk: JWK
}
const keys = {} as Record<Alg, Pair>
let other: Pair // a key the app does not trust
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0)
const now = () => NOW
let jwks: Backend

async function pair(alg: Alg): Promise<Pair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  return { privateKey, pem: await exportSPKI(publicKey), jwk: { ...(await exportJWK(publicKey)), alg, kid: `k-${alg}` } }
}

interface Claims {
  typ?: string
  user?: unknown
  locale?: string
  sub?: string
  iss?: string
  aud?: string
  iat?: number
  exp?: number
}

async function sign(key: Pair, alg: Alg, claims: Claims = {}): Promise<string> {
  const iat = Math.floor(NOW / 1000)
  const c: Claims = { typ: 'user', user: alice, locale: 'tr', sub: '1', iss: 'apilayer', aud: 'http://app.test', iat, exp: iat + 60, ...claims }
  const { iss, aud, iat: i, exp, sub, ...rest } = c
  let jwt = new SignJWT(rest as Record<string, unknown>).setProtectedHeader({ alg, kid: key.jwk.kid })
  if (iss !== undefined) jwt = jwt.setIssuer(iss)
  if (aud !== undefined) jwt = jwt.setAudience(aud)
  if (i !== undefined) jwt = jwt.setIssuedAt(i)
  if (exp !== undefined) jwt = jwt.setExpirationTime(exp)
  if (sub !== undefined) jwt = jwt.setSubject(sub)
  return jwt.sign(key.privateKey)
}

// What a forged or direct request would carry besides the assertion.
const forged = { 'x-auth-user': b64({ id: 666, name: 'Mallory' }), 'x-auth-token-type': 'user', 'x-locale': 'xx', 'x-auth-user-truncated': '1' }

beforeAll(async () => {
  keys.EdDSA = await pair('EdDSA')
  keys.ES256 = await pair('ES256')
  keys.RS256 = await pair('RS256')
  other = await pair('EdDSA')
  jwks = await startBackend({
    'GET /_apilayer/jwks.json': () => ({ json: { keys: [keys.EdDSA.jwk, keys.ES256.jwk] } }),
  })
})
afterAll(async () => {
  await jwks.close()
})
afterEach(() => {
  vi.unstubAllEnvs()
  setAppRequest(null)
})

const base = (o: AuthOptions): AuthOptions => ({ audience: 'http://app.test', now, ...o })

describe('signed mode: valid assertions', () => {
  for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
    it(`${alg}, PEM public key: the claims are the session and the headers are ignored`, async () => {
      const auth = createAuth(base({ publicKey: keys[alg].pem }))
      const jws = await sign(keys[alg], alg)
      const req = nodeRequest({ ...forged, 'x-auth-assertion': jws, cookie: 'userAuthToken=u' })
      const { session, token } = await auth.read(req)
      expect(session).toEqual({
        user: alice,
        tokenType: 'user',
        isAuthenticated: true,
        isGuest: false,
        locale: 'tr',
        userTruncated: false,
        verified: true,
      })
      expect(token).toBe('u')
      expect(await auth.getServerUser(req)).toEqual(alice)
    })
  }

  it('a JWK public key (object)', async () => {
    const auth = createAuth(base({ publicKey: keys.ES256.jwk }))
    const s = await auth.getSession(nodeRequest({ 'x-auth-assertion': await sign(keys.ES256, 'ES256') }))
    expect(s.verified).toBe(true)
  })

  it('a JWKS as JSON text', async () => {
    const auth = createAuth(base({ publicKey: JSON.stringify({ keys: [keys.RS256.jwk] }) }))
    const s = await auth.getSession(nodeRequest({ 'x-auth-assertion': await sign(keys.RS256, 'RS256') }))
    expect(s.verified).toBe(true)
  })

  it('a remote JWKS (the gateway /_apilayer/jwks.json)', async () => {
    const auth = createAuth(base({ jwksUrl: `${jwks.url}/_apilayer/jwks.json` }))
    const s = await auth.getSession(new Request('http://app.test/', { headers: { 'x-auth-assertion': await sign(keys.ES256, 'ES256') } }))
    expect(s.user).toEqual(alice)
    expect(s.verified).toBe(true)
  })

  it('a guest assertion', async () => {
    const auth = createAuth(base({ publicKey: keys.EdDSA.pem }))
    const s = await auth.getSession(nodeRequest({ 'x-auth-assertion': await sign(keys.EdDSA, 'EdDSA', { typ: 'guest', user: guest, locale: undefined }) }))
    expect(s).toMatchObject({ user: guest, tokenType: 'guest', isGuest: true, isAuthenticated: false, locale: null, verified: true })
    expect(await auth.getServerUser(nodeRequest({ 'x-auth-assertion': await sign(keys.EdDSA, 'EdDSA', { typ: 'guest', user: guest }) }))).toBeNull()
  })

  it('an expiry within the clock tolerance', async () => {
    const auth = createAuth(base({ publicKey: keys.EdDSA.pem, clockTolerance: 5 }))
    const exp = Math.floor(NOW / 1000) - 3
    const s = await auth.getSession(nodeRequest({ 'x-auth-assertion': await sign(keys.EdDSA, 'EdDSA', { exp, iat: exp - 60 }) }))
    expect(s.verified).toBe(true)
  })

  it('environment variables: APILAYER_PUBLIC_KEY (with \\n escapes) and APILAYER_AUDIENCE', async () => {
    vi.stubEnv('APILAYER_PUBLIC_KEY', keys.EdDSA.pem.replace(/\n/g, '\\n'))
    vi.stubEnv('APILAYER_AUDIENCE', 'http://app.test')
    // The default functions check exp against the real clock.
    const iat = Math.floor(Date.now() / 1000)
    const good = await sign(keys.EdDSA, 'EdDSA', { iat, exp: iat + 60 })
    const s = await getSession(nodeRequest({ ...forged, 'x-auth-assertion': good }))
    expect(s.user).toEqual(alice)
    expect(s.verified).toBe(true)
    const wrongAud = await sign(keys.EdDSA, 'EdDSA', { iat, exp: iat + 60, aud: 'http://other.test' })
    expect((await getSession(nodeRequest({ 'x-auth-assertion': wrongAud }))).user).toBeNull()
  })

  it('APILAYER_JWKS_URL, in the App Router', async () => {
    vi.stubEnv('APILAYER_JWKS_URL', `${jwks.url}/_apilayer/jwks.json`)
    const iat = Math.floor(Date.now() / 1000)
    setAppRequest({ 'x-auth-assertion': await sign(keys.EdDSA, 'EdDSA', { iat, exp: iat + 60 }), cookie: 'guestAuthToken=g' })
    expect((await getSession()).verified).toBe(true)
    expect(await getServerToken()).toBe('g')
  })

  it('a custom assertion header', async () => {
    const auth = createAuth(base({ publicKey: keys.EdDSA.pem, assertionHeader: 'X-Identity' }))
    const s = await auth.getSession(nodeRequest({ 'x-identity': await sign(keys.EdDSA, 'EdDSA') }))
    expect(s.verified).toBe(true)
  })
})

describe('signed mode: everything else is anonymous, with no token', () => {
  const rows: { name: string; assertion: () => Promise<string | undefined>; options?: () => AuthOptions }[] = [
    { name: 'no assertion (a request that did not come through the gateway)', assertion: async () => undefined },
    { name: 'signed by another key', assertion: () => sign(other, 'EdDSA') },
    { name: 'expired beyond the tolerance', assertion: () => sign(keys.EdDSA, 'EdDSA', { exp: Math.floor(NOW / 1000) - 6, iat: Math.floor(NOW / 1000) - 66 }) },
    { name: 'another issuer', assertion: () => sign(keys.EdDSA, 'EdDSA', { iss: 'someone' }) },
    { name: 'another audience', assertion: () => sign(keys.EdDSA, 'EdDSA', { aud: 'http://other.test' }) },
    { name: 'no exp', assertion: () => sign(keys.EdDSA, 'EdDSA', { exp: undefined }) },
    { name: 'no typ claim', assertion: () => sign(keys.EdDSA, 'EdDSA', { typ: undefined }) },
    { name: 'garbage', assertion: async () => 'not.a.jws' },
    {
      name: 'alg none (unsecured JWT)',
      assertion: async () =>
        new UnsecuredJWT({ typ: 'user', user: alice }).setIssuer('apilayer').setAudience('http://app.test').setIssuedAt(Math.floor(NOW / 1000)).setExpirationTime(Math.floor(NOW / 1000) + 60).encode(),
    },
    {
      name: 'HS256 with the public key text as the secret (algorithm confusion)',
      assertion: async () =>
        new SignJWT({ typ: 'user', user: alice })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('apilayer')
          .setAudience('http://app.test')
          .setIssuedAt(Math.floor(NOW / 1000))
          .setExpirationTime(Math.floor(NOW / 1000) + 60)
          .sign(new TextEncoder().encode(keys.EdDSA.pem)),
    },
    {
      name: 'an algorithm left out of algorithms',
      assertion: () => sign(keys.ES256, 'ES256'),
      options: () => base({ jwksUrl: `${jwks.url}/_apilayer/jwks.json`, algorithms: ['EdDSA'] }),
    },
    {
      name: 'a key id the JWKS does not have',
      assertion: () => sign(keys.RS256, 'RS256'),
      options: () => base({ jwksUrl: `${jwks.url}/_apilayer/jwks.json` }),
    },
  ]
  for (const row of rows) {
    it(row.name, async () => {
      const auth = createAuth(row.options?.() ?? base({ publicKey: keys.EdDSA.pem }))
      const jws = await row.assertion()
      const headers: Record<string, string> = { ...forged, cookie: 'userAuthToken=u', 'x-refreshed-token': 'r' }
      if (jws) headers['x-auth-assertion'] = jws
      const { session, token } = await auth.read(nodeRequest(headers))
      expect(session).toEqual({ user: null, tokenType: null, isAuthenticated: false, isGuest: false, locale: null, userTruncated: false, verified: false })
      expect(token).toBeNull()
      expect(await auth.getServerUser(nodeRequest(headers))).toBeNull()
    })
  }

  it('a remembered assertion stops being valid at its expiry', async () => {
    let t = NOW
    const auth = createAuth(base({ publicKey: keys.EdDSA.pem, clockTolerance: 0, now: () => t }))
    const req = nodeRequest({ 'x-auth-assertion': await sign(keys.EdDSA, 'EdDSA') }) // exp = NOW + 60 s
    expect((await auth.getSession(req)).verified).toBe(true)
    t = NOW + 59_000
    expect((await auth.getSession(req)).verified).toBe(true)
    t = NOW + 61_000
    expect((await auth.getSession(req)).verified).toBe(false)
  })
})

describe('signed mode: configuration errors fail closed', () => {
  it('a private key given as the public key', async () => {
    const pkcs8 = await exportPKCS8(keys.EdDSA.privateKey)
    const auth = createAuth(base({ publicKey: pkcs8 }))
    await expect(auth.getSession(nodeRequest(forged))).rejects.toThrow(IdentityError)
    await expect(auth.getSession(nodeRequest(forged))).rejects.toThrow(/never configure the private key/)
  })

  it('a private JWK', async () => {
    const jwk = await exportJWK(keys.ES256.privateKey)
    await expect(createAuth(base({ publicKey: jwk })).getSession(nodeRequest(forged))).rejects.toThrow(/private or secret key/)
  })

  it('a key that is not of an allowed algorithm', async () => {
    const auth = createAuth(base({ publicKey: keys.EdDSA.pem, algorithms: ['ES256', 'RS256'] }))
    await expect(auth.getSession(nodeRequest(forged))).rejects.toThrow(/not a public key for ES256, RS256/)
  })

  it('text that is no key', async () => {
    await expect(createAuth(base({ publicKey: 'hello' })).getSession(nodeRequest(forged))).rejects.toThrow(IdentityError)
  })

  it('a JWKS that cannot be fetched is an error, not an anonymous visitor', async () => {
    const down = await startBackend()
    const url = `${down.url}/_apilayer/jwks.json`
    await down.close()
    const auth = createAuth(base({ jwksUrl: url }))
    const req = nodeRequest({ 'x-auth-assertion': await sign(keys.EdDSA, 'EdDSA') })
    await expect(auth.getSession(req)).rejects.toThrow(IdentityError)
  })

  it('a JWKS endpoint answering 500 is an error', async () => {
    const broken = await startBackend({ 'GET /jwks': () => ({ status: 500, json: { success: false } }) })
    try {
      const auth = createAuth(base({ jwksUrl: `${broken.url}/jwks` }))
      await expect(auth.getSession(nodeRequest({ 'x-auth-assertion': await sign(keys.EdDSA, 'EdDSA') }))).rejects.toThrow(IdentityError)
    } finally {
      await broken.close()
    }
  })

  it('a jwksUrl that is not a URL', async () => {
    await expect(createAuth({ jwksUrl: 'nope' }).getSession(nodeRequest(forged))).rejects.toThrow(/jwksUrl: not a URL/)
  })
})
