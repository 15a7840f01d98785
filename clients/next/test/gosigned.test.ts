// What the gateway signs, @apilayer/next accepts: assertions made by the Go
// assertion package (internal/testkit/signassertion, run with `go run`)
// verified by createAuth with the PEM public key, with the JWKS as text,
// and with the JWKS served as the gateway serves it.
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuth } from '../src'
import { nodeRequest, startBackend, type Backend } from './server'

interface Case {
  alg: 'EdDSA' | 'ES256' | 'RS256'
  kid: string
  publicKeyPEM: string
  jwks: { keys: Record<string, unknown>[] }
  user: string
  guest: string
}
interface Fixture {
  now: number
  audience: string
  userJSON: Record<string, unknown>
  cases: Case[]
}

const repo = resolve(__dirname, '..', '..', '..')
let fx: Fixture
let gateway: Backend

beforeAll(async () => {
  const { stdout } = await promisify(execFile)(process.env.GO ?? 'go', ['run', './internal/testkit/signassertion'], { cwd: repo })
  fx = JSON.parse(stdout) as Fixture
  gateway = await startBackend(
    Object.fromEntries(
      fx.cases.map((c) => [
        `GET /${c.alg}/_apilayer/jwks.json`,
        () => ({ body: JSON.stringify(c.jwks), headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' } }),
      ]),
    ),
  )
}, 120_000)
afterAll(async () => {
  await gateway?.close()
})

describe('assertions signed by the Go package', () => {
  for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
    const c = () => fx.cases.find((x) => x.alg === alg) as Case
    const options = () => ({ audience: fx.audience, now: () => fx.now * 1000 })
    const keyConfigs: [string, () => Parameters<typeof createAuth>[0]][] = [
      ['the PEM public key', () => ({ ...options(), publicKey: c().publicKeyPEM })],
      ['the JWKS as text', () => ({ ...options(), publicKey: JSON.stringify(c().jwks) })],
      ['the JWKS URL', () => ({ ...options(), jwksUrl: `${gateway.url}/${alg}/_apilayer/jwks.json` })],
    ]
    for (const [name, config] of keyConfigs) {
      it(`${alg}, ${name}: a user and a guest`, async () => {
        const auth = createAuth(config())
        const s = await auth.getSession(nodeRequest({ 'x-auth-assertion': c().user, 'x-auth-user': 'forged' }))
        expect(s).toEqual({
          user: fx.userJSON,
          tokenType: 'user',
          isAuthenticated: true,
          isGuest: false,
          locale: 'tr',
          userTruncated: false,
          verified: true,
        })
        const g = await auth.getSession(new Request('http://app.test/', { headers: { 'x-auth-assertion': c().guest } }))
        expect(g).toMatchObject({ user: { type: 'guest' }, tokenType: 'guest', isGuest: true, isAuthenticated: false, locale: null, verified: true })
      })
    }

    it(`${alg}: the JWKS has what jose needs and no private part`, () => {
      const [k] = c().jwks.keys
      expect(k).toMatchObject({ use: 'sig', alg, kid: c().kid })
      for (const p of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k).not.toHaveProperty(p)
    })

    it(`${alg}: refused for another audience, after expiry, or tampered`, async () => {
      const other = createAuth({ audience: 'http://other.test', now: () => fx.now * 1000, publicKey: c().publicKeyPEM })
      expect((await other.getSession(nodeRequest({ 'x-auth-assertion': c().user }))).user).toBeNull()
      const later = createAuth({ audience: fx.audience, now: () => (fx.now + 60 + 6) * 1000, publicKey: c().publicKeyPEM })
      expect((await later.getSession(nodeRequest({ 'x-auth-assertion': c().user }))).user).toBeNull()
      const [h, p, sig] = c().user.split('.')
      const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString()) as Record<string, unknown>
      const tampered = [h, Buffer.from(JSON.stringify({ ...claims, typ: 'admin' })).toString('base64url'), sig].join('.')
      const auth = createAuth({ ...options(), publicKey: c().publicKeyPEM })
      expect((await auth.getSession(nodeRequest({ 'x-auth-assertion': tampered }))).user).toBeNull()
    })
  }
})
