import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importJWK,
  importSPKI,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose'
import { IdentityError } from './errors'
import { isObject } from './request'

/** The algorithms the gateway signs assertions with (`identity.algorithm`). */
export type AssertionAlgorithm = 'EdDSA' | 'ES256' | 'RS256'
export const ASSERTION_ALGORITHMS: readonly AssertionAlgorithm[] = ['EdDSA', 'ES256', 'RS256']

/** A public key: PEM (SPKI), a JWK or a JWKS, as text or as an object, or a key already imported. */
export type PublicKeyInput = string | JWK | { keys: JWK[] } | CryptoKey

/** The claims of a verified `X-Auth-Assertion`. */
export interface AssertionClaims {
  sub: string | null
  typ: string
  user: Record<string, unknown> | null
  locale: string | null
}

export interface VerifierOptions {
  jwksUrl?: string
  publicKey?: PublicKeyInput
  issuer: string
  audience?: string | string[]
  algorithms: readonly AssertionAlgorithm[]
  /** Seconds of clock skew accepted on exp, nbf and iat. */
  clockTolerance: number
  now: () => number
}

/**
 * A Verifier checks assertions. ready rejects with an IdentityError when the
 * key configuration is unusable; verify returns the claims of a valid
 * assertion, or null.
 */
export interface Verifier {
  ready(): Promise<void>
  verify(jws: string): Promise<AssertionClaims | null>
}

const remoteSets = new Map<string, JWTVerifyGetKey>()

function remoteSet(url: string): JWTVerifyGetKey {
  let set = remoteSets.get(url)
  if (!set) {
    let u: URL
    try {
      u = new URL(url)
    } catch {
      throw new IdentityError(`jwksUrl: not a URL (got ${JSON.stringify(url)})`)
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      throw new IdentityError(`jwksUrl: must be an http or https URL (got ${JSON.stringify(url)})`)
    }
    // Refetched on an unknown kid at most every 30 s, so a key rotation by
    // the gateway is picked up without a restart.
    set = createRemoteJWKSet(u, { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
    remoteSets.set(url, set)
  }
  return set
}

function algOfJWK(jwk: JWK): AssertionAlgorithm | undefined {
  if (jwk.alg) return jwk.alg as AssertionAlgorithm
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA'
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256'
  if (jwk.kty === 'RSA') return 'RS256'
  return undefined
}

/** importKey turns a configured public key into what jwtVerify takes. */
async function importKey(
  input: PublicKeyInput,
  allowed: readonly AssertionAlgorithm[],
): Promise<{ key: CryptoKey | JWTVerifyGetKey; algorithms: AssertionAlgorithm[] }> {
  if (typeof CryptoKey !== 'undefined' && input instanceof CryptoKey) {
    return { key: input, algorithms: [...allowed] }
  }
  let value: unknown = input
  if (typeof value === 'string') {
    const text = value.trim().replace(/\\n/g, '\n')
    if (text.startsWith('-----BEGIN PUBLIC KEY-----')) {
      for (const alg of allowed) {
        try {
          return { key: await importSPKI(text, alg), algorithms: [alg] }
        } catch {
          // not a key of this algorithm: try the next
        }
      }
      throw new IdentityError(`publicKey: the PEM key is not a public key for ${allowed.join(', ')}`)
    }
    if (text.startsWith('-----BEGIN')) {
      throw new IdentityError('publicKey: expected a PEM "PUBLIC KEY" (SPKI); never configure the private key here')
    }
    try {
      value = JSON.parse(text)
    } catch {
      throw new IdentityError('publicKey: neither a PEM public key nor JSON (a JWK or a JWKS)')
    }
  }
  if (!isObject(value)) throw new IdentityError('publicKey: expected a PEM public key, a JWK or a JWKS')
  const hasPrivate = (k: Record<string, unknown>) => ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((f) => f in k)
  if (Array.isArray(value.keys)) {
    const keys = value.keys as JWK[]
    if (keys.some((k) => isObject(k) && hasPrivate(k))) throw new IdentityError('publicKey: the JWKS holds private or secret keys')
    return { key: createLocalJWKSet({ keys }), algorithms: [...allowed] }
  }
  const jwk = value as JWK
  if (hasPrivate(value)) throw new IdentityError('publicKey: the JWK is a private or secret key')
  const alg = algOfJWK(jwk)
  if (!alg || !allowed.includes(alg)) {
    throw new IdentityError(`publicKey: the JWK's algorithm must be one of ${allowed.join(', ')} (got ${alg ?? jwk.kty})`)
  }
  try {
    return { key: (await importJWK(jwk, alg)) as CryptoKey, algorithms: [alg] }
  } catch (e) {
    throw new IdentityError(`publicKey: cannot import the JWK: ${(e as Error).message}`, e)
  }
}

/** Errors that say "this assertion is not valid", as opposed to "cannot check". */
function isInvalid(e: unknown): boolean {
  return (
    e instanceof errors.JWSSignatureVerificationFailed ||
    e instanceof errors.JWTExpired ||
    e instanceof errors.JWTClaimValidationFailed ||
    e instanceof errors.JWSInvalid ||
    e instanceof errors.JWTInvalid ||
    e instanceof errors.JOSEAlgNotAllowed ||
    e instanceof errors.JOSENotSupported ||
    e instanceof errors.JWKSNoMatchingKey ||
    e instanceof errors.JWKSMultipleMatchingKeys
  )
}

/**
 * createVerifier returns a Verifier for the key configuration. Keys given
 * inline are imported once, on first use; a bad key makes every call throw
 * an IdentityError (never a silent fallback to unsigned mode).
 */
export function createVerifier(opts: VerifierOptions): Verifier {
  const allowed = opts.algorithms.filter((a) => ASSERTION_ALGORITHMS.includes(a))
  if (allowed.length === 0) throw new IdentityError(`algorithms: must list some of ${ASSERTION_ALGORITHMS.join(', ')}`)
  let keyPromise: Promise<{ key: CryptoKey | JWTVerifyGetKey; algorithms: AssertionAlgorithm[] }>
  if (opts.publicKey !== undefined && opts.publicKey !== '') {
    keyPromise = importKey(opts.publicKey, allowed)
  } else if (opts.jwksUrl) {
    keyPromise = Promise.resolve().then(() => ({ key: remoteSet(opts.jwksUrl as string), algorithms: [...allowed] }))
  } else {
    throw new IdentityError('signed identity needs jwksUrl or publicKey')
  }
  keyPromise.catch(() => undefined) // reported by each call, through ready

  // Verified assertions by their compact form: the gateway reuses one
  // signature for a while, so most requests skip the signature check.
  const cache = new Map<string, { claims: AssertionClaims; until: number }>()
  const maxEntries = 1000

  const ready = async () => {
    await keyPromise
  }
  const verify = async (jws: string): Promise<AssertionClaims | null> => {
    const now = opts.now()
    const hit = cache.get(jws)
    if (hit && now < hit.until) return hit.claims
    const { key, algorithms } = await keyPromise
    const verifyOptions: JWTVerifyOptions = {
      algorithms,
      issuer: opts.issuer,
      audience: opts.audience,
      clockTolerance: opts.clockTolerance,
      requiredClaims: ['exp', 'iat', 'typ'],
      currentDate: new Date(now),
    }
    let payload: Record<string, unknown>
    try {
      // jwtVerify's overloads differ for a key and a key set.
      const res =
        typeof key === 'function'
          ? await jwtVerify(jws, key as JWTVerifyGetKey, verifyOptions)
          : await jwtVerify(jws, key as CryptoKey, verifyOptions)
      payload = res.payload
    } catch (e) {
      if (e instanceof IdentityError) throw e
      if (isInvalid(e)) return null
      throw new IdentityError(`cannot verify X-Auth-Assertion: ${opts.jwksUrl ? `the JWKS at ${opts.jwksUrl} is unavailable` : 'key error'} (${(e as Error)?.message ?? String(e)})`, e)
    }
    if (typeof payload.typ !== 'string' || payload.typ === '') return null
    const claims: AssertionClaims = {
      sub: typeof payload.sub === 'string' ? payload.sub : null,
      typ: payload.typ,
      user: isObject(payload.user) ? payload.user : null,
      locale: typeof payload.locale === 'string' && payload.locale !== '' ? payload.locale : null,
    }
    if (cache.size >= maxEntries) {
      for (const [k, v] of cache) if (now >= v.until) cache.delete(k)
      if (cache.size >= maxEntries) cache.clear()
    }
    cache.set(jws, { claims, until: (payload.exp as number) * 1000 + opts.clockTolerance * 1000 })
    return claims
  }
  return { ready, verify }
}
