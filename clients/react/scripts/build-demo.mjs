// Builds the demo web app (demo/ + src/) into internal/demo/web/dist/, the
// bundle that the Go demo app embeds. The bundle records the SHA-256 of its
// sources (SOURCES.sha256), which a Go test recomputes to catch a stale
// bundle. `--check` only compares the hashes.
//
// Sources hash: for every file under src/ and demo/, plus package.json,
// package-lock.json and this script, sorted by path relative to
// clients/react (with /), the lines "<path>\n<hex sha256 of content>\n" are
// concatenated and hashed with SHA-256. internal/demo/bundle_test.go
// computes the same.
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, '..', '..', 'internal', 'demo', 'web', 'dist')

async function walk(dir) {
  const files = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) files.push(...(await walk(p)))
    else if (e.isFile()) files.push(p)
  }
  return files
}

export async function sourcesHash() {
  const files = [
    ...(await walk(join(root, 'src'))),
    ...(await walk(join(root, 'demo'))),
    join(root, 'package.json'),
    join(root, 'package-lock.json'),
    join(root, 'scripts', 'build-demo.mjs'),
  ]
  const rel = files.map((f) => relative(root, f).split(sep).join('/')).sort()
  const h = createHash('sha256')
  for (const r of rel) {
    const content = await readFile(join(root, r))
    h.update(`${r}\n${createHash('sha256').update(content).digest('hex')}\n`)
  }
  return h.digest('hex')
}

const hash = await sourcesHash()
if (process.argv.includes('--check')) {
  const committed = (await readFile(join(out, 'SOURCES.sha256'), 'utf8').catch(() => '')).trim()
  if (committed !== hash) {
    console.error(`demo bundle is stale (sources ${hash}, bundle ${committed || 'missing'}): run npm run build:demo`)
    process.exit(1)
  }
  console.log(`demo bundle is up to date (${hash})`)
} else {
  const { build } = await import('esbuild')
  await mkdir(out, { recursive: true })
  await build({
    entryPoints: { app: join(root, 'demo', 'main.tsx') },
    outdir: out,
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    banner: { js: `/* @apilayer/react demo bundle. SOURCES_SHA256=${hash}. Rebuild: cd clients/react && npm run build:demo */`, css: `/* SOURCES_SHA256=${hash} */` },
    legalComments: 'none',
    logLevel: 'warning',
  })
  await writeFile(join(out, 'SOURCES.sha256'), hash + '\n')
  console.log(`built ${relative(process.cwd(), out)} (sources ${hash})`)
}
