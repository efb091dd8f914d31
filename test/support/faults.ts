import postgres from 'postgres'
import { mintToken, serverEnv, type RunningServer } from './imports/server.js'
import type { TapTest } from './tap.js'

// Shared by the kill -9 fault tests (test/faults-kill-*.test.ts): each runs real server child
// processes on a database of its own and counts outcomes in the database itself (as its owner,
// so no row is hidden by the tenant policies) and through the API.

export const skipWithoutPostgres = process.env.DATABASE_URL ? false : 'needs PostgreSQL (set DATABASE_URL): the embedded PGlite lives inside the killed process, so there is no database left running to recover with'
export const WEBHOOK_SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64')
const SCOPES = 'contacts:read,contacts:write,channels:read,channels:write,interactions:read,interactions:write,messages:send,promises:read,promises:write'

/** Runs `fn` over `items`, `concurrency` at a time, until done or `stop()` is true. */
export async function pool<T> (items: T[], concurrency: number, fn: (item: T) => Promise<void>, stop = () => false) {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length && !stop()) await fn(items[next++])
  }))
}

/** Polls `fn` until it returns a truthy value (returned). */
export async function until<T> (what: string, fn: () => Promise<T | false | undefined>, timeoutMs = 60_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export async function kill9 (t: TapTest, s: RunningServer, note: string) {
  s.server.child.kill('SIGKILL')
  const exit = await s.server.exited
  t.equal(exit.signal, 'SIGKILL', `killed with SIGKILL ${note}`)
}

/**
 * A fresh database, a token with every scope the fault tests use, and the test's own owner
 * connection. Rate limits are off: the tests fire thousands of requests with one token.
 */
export async function faultSetup (t: TapTest, extra: Record<string, string> = {}) {
  const env = await serverEnv(t, { WORKER_POLL_MS: '50', RATE_LIMIT_MAX: '0', ...extra })
  const token = await mintToken(env, 'faults', SCOPES)
  const sql = postgres(env.DATABASE_URL, { max: 2, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 5 }))
  return { env, token, sql }
}
