import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isolatedDatabase } from '../../helper.js'
import { cleanEnv, freePort, runTs, spawnTs, waitForListening, type NodeProcess } from '../process.js'
import type { TapTest } from '../tap.js'

// A real server child process (src/server.ts) and the scripts around it, for the CLI and crash tests.

export const jwtSecret = 'imports-test-secret-imports-test-secret-01'
const secretsKey = 'cd'.repeat(32)

export function tempDir (t: TapTest, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rapport-${name}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Environment for a server and the token script sharing one database: the embedded one in a temp
 * DATA_DIR, or with DATABASE_URL a fresh PostgreSQL database (dropped at teardown).
 */
export async function serverEnv (t: TapTest, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const env: Record<string, string> = { DATA_DIR: tempDir(t, 'imports'), JWT_SECRET: jwtSecret, SECRETS_KEY: secretsKey, ...extra }
  if (process.env.DATABASE_URL) env.DATABASE_URL = (await isolatedDatabase(t)).url!
  return env
}

export interface RunningServer { server: NodeProcess, base: URL, url: (path: string) => URL }

/** Starts src/server.ts on a free port and waits until it listens; killed at teardown if still running. */
export async function startServer (t: TapTest, env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort()
  const server = spawnTs('src/server.ts', [], cleanEnv({ ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' }))
  t.teardown(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM')
      const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000)
      await server.exited
      clearTimeout(timer)
    }
  })
  const base = await waitForListening(server, 120_000)
  return { server, base, url: (path: string) => new URL(path, base) }
}

/** A token from scripts/token.ts (the last line of its stdout). */
export async function mintToken (env: Record<string, string>, workspace: string, scopes: string): Promise<string> {
  const res = await runTs('scripts/token.ts', ['--workspace', workspace, '--scopes', scopes, '--ttl', '1h'], cleanEnv(env))
  if (res.code !== 0) throw new Error(`token script failed (${res.code}): ${res.stderr}`)
  return res.stdout.trim().split('\n').at(-1)!
}

/** fetch + JSON for the child server. */
export async function api (base: URL, token: string, path: string, init: RequestInit = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(new URL(path, base), { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> ?? {}) } })
  const text = await res.text()
  let body: unknown
  try { body = JSON.parse(text) } catch { body = text }
  return { status: res.status, body, headers: res.headers }
}

/** Every live contact of the token's workspace through the paginated list. */
export async function countContacts (base: URL, token: string): Promise<{ count: number, ids: Set<string>, externalIds: string[] }> {
  const ids = new Set<string>()
  const externalIds: string[] = []
  let after: string | null = null
  do {
    const res = await api(base, token, `/v1/contacts?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`)
    if (res.status !== 200) throw new Error(`list contacts: ${res.status} ${JSON.stringify(res.body)}`)
    for (const c of res.body.data) {
      ids.add(c.id)
      if (c.externalId) externalIds.push(c.externalId)
    }
    after = res.body.nextCursor
  } while (after)
  return { count: ids.size, ids, externalIds }
}

/** Polls GET /v1/imports/{id} until `done(job)` or the timeout. */
export async function waitForJob (base: URL, token: string, id: string, done: (job: any) => boolean, timeoutMs = 120_000, everyMs = 100): Promise<any> {
  const deadline = Date.now() + timeoutMs
  let job: any
  while (Date.now() < deadline) {
    const res = await api(base, token, `/v1/imports/${id}`)
    job = res.body
    if (res.status === 200 && done(job)) return job
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  throw new Error(`job ${id} did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(job)}`)
}
