import { IdentityError } from './errors'
import { DEFAULT_COOKIES, HEADERS, decodeUser, fromRequest, isRequestLike, type RequestLike, type Source } from './request'
import { createVerifier, type AssertionAlgorithm, type PublicKeyInput, type Verifier, ASSERTION_ALGORITHMS } from './verify'

/** AuthUser is the user object the gateway forwards (the backend's user, without tokens). */
export interface AuthUser {
  id?: string | number
  name?: string
  email?: string
  username?: string
  /** `user`, `guest` or another token type. */
  type?: string
  roles?: string[]
  [key: string]: unknown
}

/** Session is who the gateway says the visitor is. */
export interface Session<TUser = AuthUser> {
  /**
   * The user object: a signed-in user's, or a guest's; null for an anonymous
   * visitor, and for a guest on the very request that minted its token (the
   * gateway then knows the token type but not the user yet).
   */
  user: TUser | null
  /** `user`, `guest`, another token type, or null without a session. */
  tokenType: string | null
  /** A user (any token type but `guest`) is signed in. */
  isAuthenticated: boolean
  /** The visitor holds a guest token. */
  isGuest: boolean
  /** The locale the gateway resolved (`i18n`), or null. */
  locale: string | null
  /**
   * The gateway reduced a user object too large for its header
   * (`X-Auth-User-Truncated`). Always false in signed mode, where no unsigned
   * header is believed.
   */
  userTruncated: boolean
  /** The identity came from a verified `X-Auth-Assertion` (signed mode). */
  verified: boolean
}

/**
 * AuthOptions configures how requests are read. Every field is optional:
 * without key configuration (here or in the environment) the helpers run in
 * unsigned mode and trust `X-Auth-User`, which is safe only when the app can
 * be reached through the gateway alone.
 */
export interface AuthOptions {
  /** The gateway's cookie names (`cookies.user`, `cookies.guest`). Default `userAuthToken`, `guestAuthToken`. */
  cookies?: { user?: string; guest?: string }
  /**
   * The gateway's JWKS (`/_apilayer/jwks.json`). Default: env `APILAYER_JWKS_URL`.
   * Setting it (or publicKey) turns on signed mode.
   */
  jwksUrl?: string
  /**
   * The gateway's public key: PEM (SPKI), a JWK or a JWKS, as text or object.
   * Default: env `APILAYER_PUBLIC_KEY`. Takes precedence over jwksUrl.
   */
  publicKey?: PublicKeyInput
  /** The `aud` the assertion must carry (`identity.audience`). Default: env `APILAYER_AUDIENCE`; unset: not checked. */
  audience?: string | string[]
  /** The `iss` the assertion must carry. Default `apilayer`. */
  issuer?: string
  /** Accepted signature algorithms. Default EdDSA, ES256, RS256. */
  algorithms?: AssertionAlgorithm[]
  /** Seconds of clock skew accepted. Default 5. */
  clockTolerance?: number
  /** The assertion header (`identity.header`). Default `X-Auth-Assertion`. */
  assertionHeader?: string
  /** The current time in milliseconds, for tests. Default `Date.now`. */
  now?: () => number
}

/** The session helpers bound to one configuration; see {@link createAuth}. */
export interface Auth {
  /** The session of the current App Router request, or of req. */
  getSession<TUser = AuthUser>(req?: RequestLike): Promise<Session<TUser>>
  /** The signed-in user (never a guest), or null. */
  getServerUser<TUser = AuthUser>(req?: RequestLike): Promise<TUser | null>
  /**
   * The effective token: X-Refreshed-Token, else the user cookie, else the
   * guest cookie; null without one, when the gateway hides tokens
   * (`upstream.hideTokens`), or in signed mode without a valid assertion.
   */
  getServerToken(req?: RequestLike): Promise<string | null>
  /** The session and the token of one request, read once. */
  read<TUser = AuthUser>(req?: RequestLike): Promise<{ session: Session<TUser>; token: string | null }>
  /** Whether assertions are verified. */
  readonly signed: boolean
}

const ANONYMOUS: Session<never> = {
  user: null,
  tokenType: null,
  isAuthenticated: false,
  isGuest: false,
  locale: null,
  userTruncated: false,
  verified: false,
}

function env(name: string): string | undefined {
  const v = typeof process !== 'undefined' ? process.env?.[name] : undefined
  return v === undefined || v.trim() === '' ? undefined : v
}

/**
 * appRouterSource reads the current request through next/headers (Next 15
 * makes headers() and cookies() async; awaiting also works with Next 14).
 * Errors are not caught: Next uses them to mark a route as dynamic.
 */
async function appRouterSource(): Promise<Source> {
  let mod: typeof import('next/headers')
  try {
    mod = await import('next/headers')
  } catch (e) {
    throw new Error('@apilayer/next: next/headers is unavailable; outside Next.js App Router pass the request (getSession(req))', { cause: e })
  }
  const h = await mod.headers()
  const c = await mod.cookies()
  return {
    header: (name) => h.get(name),
    cookie: (name) => {
      const v = c.get(name)?.value
      return v === undefined || v === '' ? null : v
    },
  }
}

function sessionOf<TUser>(
  user: Record<string, unknown> | null,
  tokenType: string | null,
  locale: string | null,
  truncated: boolean,
  verified: boolean,
): Session<TUser> {
  const type = tokenType || (user ? 'user' : null)
  const isGuest = type === 'guest'
  return {
    user: user as TUser | null,
    tokenType: type,
    isAuthenticated: user !== null && type !== null && !isGuest,
    isGuest,
    locale: locale || null,
    userTruncated: truncated,
    verified,
  }
}

/**
 * createAuth returns getSession, getServerUser and getServerToken bound to
 * options. The package's top-level functions use createAuth() with the
 * environment's configuration.
 */
export function createAuth(options: AuthOptions = {}): Auth {
  const userCookie = options.cookies?.user ?? DEFAULT_COOKIES.user
  const guestCookie = options.cookies?.guest ?? DEFAULT_COOKIES.guest
  const assertionHeader = (options.assertionHeader ?? HEADERS.assertion).toLowerCase()
  const publicKey = options.publicKey ?? env('APILAYER_PUBLIC_KEY')
  const jwksUrl = options.jwksUrl ?? env('APILAYER_JWKS_URL')
  const audience = options.audience ?? env('APILAYER_AUDIENCE')
  const signed = publicKey !== undefined || jwksUrl !== undefined
  let verifier: Verifier | undefined
  let setupError: unknown
  if (signed) {
    try {
      verifier = createVerifier({
        publicKey,
        jwksUrl,
        audience,
        issuer: options.issuer ?? 'apilayer',
        algorithms: options.algorithms ?? ASSERTION_ALGORITHMS,
        clockTolerance: options.clockTolerance ?? 5,
        now: options.now ?? Date.now,
      })
    } catch (e) {
      setupError = e
    }
  }

  const token = (src: Source) =>
    src.header(HEADERS.refreshedToken) || src.cookie(userCookie) || src.cookie(guestCookie) || null

  async function read<TUser>(req?: RequestLike): Promise<{ session: Session<TUser>; token: string | null }> {
    if (req !== undefined && !isRequestLike(req)) {
      throw new TypeError('@apilayer/next: expected a Request or an IncomingMessage')
    }
    const src = req === undefined ? await appRouterSource() : fromRequest(req)
    if (!signed) {
      const truncated = src.header(HEADERS.userTruncated) === '1'
      const user = decodeUser(src.header(HEADERS.user))
      const session = sessionOf<TUser>(user, src.header(HEADERS.tokenType), src.header(HEADERS.locale), truncated && !!user, false)
      return { session, token: token(src) }
    }
    if (setupError !== undefined || !verifier) {
      throw setupError instanceof IdentityError ? setupError : new IdentityError('signed identity is misconfigured', setupError)
    }
    // Signed mode: the assertion alone says who the visitor is; X-Auth-User,
    // X-Auth-Token-Type and X-Locale are ignored. A request that did not come
    // through the gateway has no valid assertion and gets no identity and no
    // token.
    await verifier.ready()
    const jws = src.header(assertionHeader)
    const claims = jws ? await verifier.verify(jws.trim()) : null
    if (!claims) return { session: { ...ANONYMOUS }, token: null }
    const session = sessionOf<TUser>(claims.user, claims.typ, claims.locale, false, true)
    return { session, token: token(src) }
  }

  return {
    signed,
    read,
    async getSession<TUser = AuthUser>(req?: RequestLike) {
      return (await read<TUser>(req)).session
    },
    async getServerUser<TUser = AuthUser>(req?: RequestLike) {
      const { session } = await read<TUser>(req)
      return session.isAuthenticated ? session.user : null
    },
    async getServerToken(req?: RequestLike) {
      return (await read(req)).token
    },
  }
}

// The default configuration comes from the environment; it is rebuilt when
// the variables change (tests, or an app that sets them at start-up).
let defaultAuth: { key: string; auth: Auth } | undefined

/** defaultAuthFromEnv returns the Auth of the top-level functions. */
export function defaultAuthFromEnv(): Auth {
  const key = [env('APILAYER_PUBLIC_KEY'), env('APILAYER_JWKS_URL'), env('APILAYER_AUDIENCE')].join('\u0000')
  if (!defaultAuth || defaultAuth.key !== key) defaultAuth = { key, auth: createAuth() }
  return defaultAuth.auth
}

/**
 * getSession returns who the gateway says the visitor is: in a server
 * component, route handler or server action without an argument (it reads
 * next/headers), or for req (Pages Router, plain Node).
 */
export function getSession<TUser = AuthUser>(req?: RequestLike): Promise<Session<TUser>> {
  return defaultAuthFromEnv().getSession<TUser>(req)
}

/** getServerUser returns the signed-in user, or null for guests and anonymous visitors. */
export function getServerUser<TUser = AuthUser>(req?: RequestLike): Promise<TUser | null> {
  return defaultAuthFromEnv().getServerUser<TUser>(req)
}

/**
 * getServerToken returns the effective token of the request: the one the
 * gateway refreshed or minted in this request (X-Refreshed-Token), else the
 * user cookie, else the guest cookie. Null without one, and when the gateway
 * hides tokens from the app (`upstream.hideTokens`).
 */
export function getServerToken(req?: RequestLike): Promise<string | null> {
  return defaultAuthFromEnv().getServerToken(req)
}
