// vitest globalSetup: builds the real gateway binary from this repository
// and starts `apilayer demo` for its demo backend. The integration tests
// (gateway.test.ts) put `apilayer serve` in front of their own web app and
// point it at that backend.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    apilayerBin: string
    demoBackendURL: string
  }
}

const repo = resolve(__dirname, '..', '..', '..')

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'apilayer-next-'))
  const bin = join(dir, 'apilayer')
  await promisify(execFile)(process.env.GO ?? 'go', ['build', '-o', bin, './cmd/apilayer'], { cwd: repo })

  const demo: ChildProcess = spawn(bin, ['demo', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const backendURL = await new Promise<string>((ok, fail) => {
    demo.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /demo backend (http:\/\/\S+\/api\/)/.exec(out)
      if (m?.[1] && out.includes('Press Ctrl-C')) ok(m[1])
    })
    demo.stderr?.on('data', (c: Buffer) => (out += c.toString()))
    demo.once('exit', (code) => fail(new Error(`apilayer demo exited (${code}):\n${out}`)))
  })
  project.provide('apilayerBin', bin)
  project.provide('demoBackendURL', backendURL)

  return async () => {
    if (demo.exitCode === null && demo.signalCode === null) {
      const exited = once(demo, 'exit')
      demo.kill('SIGTERM')
      await exited
    }
    await rm(dir, { recursive: true, force: true })
  }
}
