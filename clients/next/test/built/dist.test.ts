// The built package, as npm would install it: both entries load (the CJS
// one requires jose, an ES module), export the same names, and verify.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { SignJWT, exportSPKI, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'

const root = resolve(__dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

describe('dist', () => {
  it('has every file package.json points to', () => {
    const paths = [pkg.main, pkg.module, pkg.types, ...Object.values(pkg.exports['.']).flatMap((c) => Object.values(c as object))]
    for (const p of paths) expect(existsSync(join(root, p as string)), p as string).toBe(true)
  })

  it('CommonJS and ESM export the same API, and the CJS build verifies assertions', async () => {
    const cjs = createRequire(import.meta.url)(join(root, pkg.main))
    const esm = await import(pathToFileURL(join(root, pkg.module)).href)
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).filter((k) => k !== 'default').sort())
    for (const name of ['getSession', 'getServerUser', 'getServerToken', 'createAuth', 'createApiClient', 'ApiError', 'NetworkError', 'TimeoutError']) {
      expect(typeof cjs[name], name).toBe('function')
    }
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true })
    const jws = await new SignJWT({ typ: 'user', user: { id: 1 } })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer('apilayer')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey)
    for (const mod of [cjs, esm]) {
      const auth = mod.createAuth({ publicKey: await exportSPKI(publicKey) })
      const s = await auth.getSession(new Request('http://app.test/', { headers: { 'x-auth-assertion': jws } }))
      expect(s).toMatchObject({ user: { id: 1 }, verified: true })
    }
  })
})
