import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** A port nobody listens on right now (the OS picks it, we release it). */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Only what a child needs: no DATABASE_URL, secrets or NODE_OPTIONS leak in from the test runner. */
export function cleanEnv (extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v
  return env
}

export interface NodeProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** `node --import tsx <script> ...args` from the repository root. */
export function spawnTs (script: string, args: string[], env: NodeJS.ProcessEnv): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Runs a script to completion (killed after `timeoutMs`). */
export async function runTs (script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000) {
  const p = spawnTs(script, args, env)
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs)
  const { code, signal } = await p.exited
  clearTimeout(timer)
  return { code, signal, stdout: p.stdout(), stderr: p.stderr() }
}

/** The `msg` of every JSON log line printed so far (other lines are ignored). */
export function logMessages (output: string): string[] {
  return output.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line)
      return typeof entry?.msg === 'string' ? [entry.msg] : []
    } catch {
      return []
    }
  })
}

/** Waits until the server logs where it listens; fails early if the process exits first. */
export async function waitForListening (p: NodeProcess, timeoutMs = 120_000): Promise<URL> {
  const deadline = Date.now() + timeoutMs
  let exit: { code: number | null, signal: NodeJS.Signals | null } | undefined
  p.exited.then((e) => { exit = e }, () => {})
  while (Date.now() < deadline) {
    for (const msg of logMessages(p.stdout())) {
      const m = /^Server listening at (http:\/\/\S+)$/.exec(msg)
      if (m) return new URL(m[1])
    }
    if (exit) throw new Error(`the server exited (${JSON.stringify(exit)}) before listening:\n${p.stderr()}\n${p.stdout()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the server did not listen within ${timeoutMs} ms:\n${p.stderr()}\n${p.stdout()}`)
}

export interface HttpAnswer { statusCode: number, headers: Record<string, string>, body: string, data: any, ms: number }

/** One HTTP call to a child server, shaped like the in-process helper's answers (for assertProblem). */
export async function httpCall (base: URL, method: string, path: string, o: { token?: string, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal } = {}): Promise<HttpAnswer> {
  const started = Date.now()
  const headers: Record<string, string> = { ...o.headers }
  if (o.token) headers.authorization = `Bearer ${o.token}`
  if (o.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json'
  const res = await fetch(new URL(path, base), {
    method,
    headers,
    body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
    signal: o.signal
  })
  const body = await res.text()
  let data: unknown
  try { data = body ? JSON.parse(body) : undefined } catch { data = undefined }
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, data, ms: Date.now() - started }
}
