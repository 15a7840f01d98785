import type { AuthUser } from './types'

/** Fields that carry credentials: never part of a user object. */
export const TOKEN_FIELDS: readonly string[] = [
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'idToken',
  'id_token',
]

const IDENTITY_FIELDS = ['id', 'sub', 'email', 'name', 'username']
const TOKEN_TYPES = ['user', 'guest']

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * asUser returns v as a user object without its token fields, or null when v
 * does not identify anyone. A token payload such as `{token: "…"}` or
 * `{access_token: "…", token_type: "bearer"}` is not a user.
 */
export function asUser(v: unknown): AuthUser | null {
  if (!isObject(v)) return null
  const user: AuthUser = {}
  for (const [k, val] of Object.entries(v)) {
    if (!TOKEN_FIELDS.includes(k)) user[k] = val
  }
  const identifies =
    IDENTITY_FIELDS.some((k) => user[k] !== undefined && user[k] !== null && user[k] !== '') ||
    TOKEN_TYPES.includes(String(user.type)) ||
    TOKEN_TYPES.includes(String(user.token_type))
  return identifies ? user : null
}

/**
 * defaultParseResponse finds the user in a JSON body: `{success, data}` ⇒
 * data (`data.user` when data wraps one); `{user}` ⇒ user; otherwise the body
 * itself. The candidate must identify someone (see {@link asUser}); a body
 * with `success: false` has no user.
 */
export function defaultParseResponse(json: unknown): AuthUser | null {
  if (!isObject(json) || json.success === false) return null
  let v: unknown = json
  if ('data' in json) v = json.data
  else if ('user' in json) v = json.user
  if (isObject(v) && isObject(v.user)) v = v.user
  return asUser(v)
}

/** defaultIsGuest reports whether user holds a guest token. */
export function defaultIsGuest(user: AuthUser | null): boolean {
  return !!user && (user.token_type === 'guest' || user.type === 'guest')
}

/** readJSON returns the JSON body of res, or undefined when it has none. */
export async function readJSON(res: Response): Promise<unknown> {
  try {
    const text = await res.text()
    return text ? JSON.parse(text) : undefined
  } catch {
    return undefined
  }
}
