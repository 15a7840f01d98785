// User is what the backend returned for the session, without any token.
export interface User {
  id?: number | string
  name?: string
  email?: string
  username?: string
  roles?: string[]
  type?: string
  [key: string]: unknown
}
