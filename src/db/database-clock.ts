import { performance } from 'node:perf_hooks'
import { sql } from 'drizzle-orm'
import type { Clock } from '../lib/clock.js'
import type { Db } from './client.js'
import { rowsOf } from './key-lists.js'

export interface DatabaseClock extends Clock {
  /** Reads the database's clock again (a few round trips); false when no sample was good enough. */
  sync: () => Promise<boolean>
  /** Syncs (waiting at most `firstSyncWaitMs`), then keeps syncing until stop(). */
  start: () => Promise<void>
  stop: () => void
  /** Whether a sync has succeeded yet (until then the host's clock is used as it is). */
  synced: () => boolean
}

const SAMPLES_PER_SYNC = 5
// A sample whose round trip took longer was queued somewhere (pool, event loop): its midpoint is a
// poor guess, so a resync that finds none better keeps the anchor it has.
const MAX_ROUND_TRIP_MS = 25

/**
 * The service clock in production: the database's clock, carried by this process's monotonic
 * clock between reads. Rows the database stamps itself (column defaults, `now()` in updates) and
 * rows an app server stamps before writing them without reading back (a pipelined entry, a bulk
 * insert whose events carry the row) must read one clock: a host clock that drifts or steps would
 * otherwise give its rows times out of step with everyone else's, and an `updatedSince` sync
 * would miss or repeat them.
 *
 * A sync reads `clock_timestamp()` and anchors it at the midpoint of the round trip (NTP's
 * estimate: off by at most half of it) on `performance.now()`, which a step of the wall clock does
 * not move; the best of five samples wins, and a resync whose best round trip was slow keeps the old
 * anchor. Between syncs time runs at the host's oscillator rate (drift of parts per million over
 * five minutes), and it never runs backwards within the process, even when a resync moves the anchor.
 * Until the first sync succeeds (the database away at start), it retries every second or so and
 * the host's clock serves meanwhile.
 */
export function createDatabaseClock (db: Db, opts: { resyncMs?: number, firstSyncWaitMs?: number, onError?: (err: unknown) => void } = {}): DatabaseClock {
  const resyncMs = opts.resyncMs ?? 300_000
  let anchor: { databaseMs: number, at: number } | undefined
  let last = 0
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  async function sample (): Promise<{ databaseMs: number, at: number, roundTrip: number }> {
    const sent = performance.now()
    const [row] = rowsOf<{ ms: number | string }>(await db.execute(sql`select extract(epoch from clock_timestamp()) * 1000 as ms`))
    const received = performance.now()
    return { databaseMs: Number(row.ms), at: (sent + received) / 2, roundTrip: received - sent }
  }

  async function sync (): Promise<boolean> {
    let best: Awaited<ReturnType<typeof sample>> | undefined
    for (let i = 0; i < SAMPLES_PER_SYNC; i++) {
      try {
        const s = await sample()
        if (!best || s.roundTrip < best.roundTrip) best = s
      } catch (err) {
        // The database is away (the breaker and /readyz say so): the samples so far may do.
        opts.onError?.(err)
        break
      }
    }
    // The first anchor takes what it gets (any is better than the host's clock); later ones only a good one.
    if (!best || (anchor && best.roundTrip > MAX_ROUND_TRIP_MS)) return false
    anchor = { databaseMs: best.databaseMs, at: best.at }
    return true
  }

  // Until a first anchor: tried again after 1 s, 2 s, 4 s… up to 30 s; then every `resyncMs`.
  let retryMs = 1000
  function scheduleNext () {
    if (stopped) return
    const ms = anchor ? resyncMs : retryMs
    retryMs = Math.min(retryMs * 2, 30_000)
    timer = setTimeout(() => { void sync().finally(scheduleNext) }, ms)
    timer.unref()
  }

  return {
    now () {
      const t = anchor ? anchor.databaseMs + (performance.now() - anchor.at) : Date.now()
      // Never backwards: a resync that moves the anchor back holds time still until it catches up.
      last = Math.max(last, t)
      return new Date(Math.floor(last))
    },
    sync,
    synced: () => anchor !== undefined,
    async start () {
      stopped = false
      // A database that does not answer does not hold the server's start: it is retried behind it.
      const first = sync().finally(scheduleNext)
      let waited: NodeJS.Timeout | undefined
      await Promise.race([first, new Promise((resolve) => { waited = setTimeout(resolve, opts.firstSyncWaitMs ?? 2000) })])
      clearTimeout(waited)
    },
    stop () {
      stopped = true
      clearTimeout(timer)
    }
  }
}
