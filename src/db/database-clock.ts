import { sql } from 'drizzle-orm'
import type { Clock } from '../lib/clock.js'
import type { Db } from './client.js'
import { rowsOf } from './key-lists.js'

export interface DatabaseClock extends Clock {
  /** Measures the offset again (a few round trips); a failure keeps the last offset. */
  sync: () => Promise<void>
  /** Syncs now, then every `resyncMs` until stop(). */
  start: () => Promise<void>
  stop: () => void
  /** The database's clock minus this host's, in ms (0 until the first sync). */
  offsetMs: () => number
}

/** Each sync keeps the sample with the shortest round trip: its midpoint is the closest guess. */
const SAMPLES_PER_SYNC = 3

/**
 * The service clock in production: this host's clock moved onto the database's. Rows the database
 * stamps itself (column defaults, `now()` in updates) and rows an app server stamps before writing
 * them without reading back (a pipelined entry, a bulk insert whose events carry the row) must read
 * one clock: a host whose clock drifts or jumps would otherwise give its rows times out of step with
 * everyone else's, and an `updatedSince` sync would miss or repeat them. The offset is the database's
 * `clock_timestamp()` minus the midpoint of the round trip that read it (NTP's estimate), so the
 * error is at most half a round trip: well under a millisecond next to the database.
 */
export function createDatabaseClock (db: Db, opts: { resyncMs?: number, onError?: (err: unknown) => void } = {}): DatabaseClock {
  const resyncMs = opts.resyncMs ?? 300_000
  let offset = 0
  let timer: NodeJS.Timeout | undefined

  async function sample (): Promise<{ offset: number, roundTrip: number }> {
    const sent = Date.now()
    const [row] = rowsOf<{ ms: number | string }>(await db.execute(sql`select extract(epoch from clock_timestamp()) * 1000 as ms`))
    const received = Date.now()
    return { offset: Number(row.ms) - (sent + received) / 2, roundTrip: received - sent }
  }

  async function sync () {
    try {
      let best: { offset: number, roundTrip: number } | undefined
      for (let i = 0; i < SAMPLES_PER_SYNC; i++) {
        const s = await sample()
        if (!best || s.roundTrip < best.roundTrip) best = s
      }
      offset = Math.round(best!.offset)
    } catch (err) {
      // The database is away (the breaker and /readyz say so): the last offset stays good enough.
      opts.onError?.(err)
    }
  }

  return {
    now: () => new Date(Date.now() + offset),
    sync,
    offsetMs: () => offset,
    async start () {
      await sync()
      timer = setInterval(() => { void sync() }, resyncMs)
      timer.unref()
    },
    stop () {
      if (timer) clearInterval(timer)
      timer = undefined
    }
  }
}
