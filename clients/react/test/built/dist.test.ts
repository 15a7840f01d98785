// The built package: both entries are client modules (a Next.js App Router
// layout can render AuthProvider), load, and export the same API.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(__dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const entries = { esm: pkg.module as string, cjs: pkg.main as string }

describe('dist', () => {
  for (const [kind, file] of Object.entries(entries)) {
    it(`the ${kind} entry starts with the "use client" directive`, () => {
      const text = readFileSync(join(root, file), 'utf8')
      // The first statement of the module, before anything but comments.
      expect(text.replace(/^(\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*/, '')).toMatch(/^(['"])use client\1;/)
    })
  }

  it('has every file package.json points to', () => {
    const paths = [pkg.main, pkg.module, pkg.types, ...Object.values(pkg.exports['.']).flatMap((c) => Object.values(c as object))]
    for (const p of paths) expect(existsSync(join(root, p as string)), p as string).toBe(true)
  })

  it('CommonJS and ESM export the same API', async () => {
    const cjs = createRequire(import.meta.url)(join(root, entries.cjs))
    const esm = await import(pathToFileURL(join(root, entries.esm)).href)
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).filter((k) => k !== 'default').sort())
    for (const name of ['AuthProvider', 'useAuth', 'useUser', 'useRequireAuth', 'useRedirectIfAuth', 'apiFetch', 'createApiFetch']) {
      expect(typeof cjs[name], name).toBe('function')
    }
  })
})
