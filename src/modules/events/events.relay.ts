import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import { EVENTS_CHANNEL, eventsOfTransaction, type LoggedEvent } from './events.log.js'

type Unlisten = () => Promise<void>
interface PostgresJsClient { listen: (channel: string, fn: (payload: string) => void) => Promise<{ unlisten: Unlisten }> }
interface PgliteClient { listen: (channel: string, fn: (payload: string) => void) => Promise<Unlisten>, waitReady?: unknown }

const DEFAULT_HEARTBEAT_MS = 30_000

function clientOf (db: Db): PostgresJsClient | PgliteClient {
  return (db as unknown as { $client: PostgresJsClient | PgliteClient }).$client
}

/**
 * LISTEN on a channel through whichever driver runs: postgres.js opens one dedicated connection
 * for all its channels (listening again on a fresh one when it closes), PGlite delivers its own
 * NOTIFYs in process.
 */
async function listen (db: Db, channel: string, fn: (payload: string) => void): Promise<Unlisten> {
  const client = clientOf(db)
  if ('waitReady' in client) return (client as PgliteClient).listen(channel, fn)
  const { unlisten } = await (client as PostgresJsClient).listen(channel, fn)
  return unlisten
}

/**
 * A LISTEN connection owes PostgreSQL no answer while it waits, so the driver's answer timeout
 * (scripts/patch-postgres.mjs, fix 10) never looks at it, and after a network partition it could
 * wait for notifications that never come. Listening on a throwaway channel and leaving it sends
 * two statements on that very connection: a dead one is then closed by the answer timeout, and
 * postgres.js listens again on a fresh one. A new channel each time, so that a channel left
 * listening by a failed round cannot turn the next into a no-op. PostgreSQL only.
 */
function startHeartbeat (db: Db, everyMs: number, log: FastifyBaseLogger): NodeJS.Timeout | undefined {
  if ('waitReady' in clientOf(db)) return undefined
  let beat = 0
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    listen(db, `${EVENTS_CHANNEL}_heartbeat_${process.pid}_${beat++}`, () => {})
      .then((unlisten) => unlisten())
      .catch((err) => log.warn({ err }, 'event relay: the listen connection did not answer; listening again on a fresh one'))
      .finally(() => { running = false })
  }, everyMs)
  timer.unref()
  return timer
}

const payloadShape = /^([a-z0-9][a-z0-9-]{0,62}):(\d{1,20})$/

/**
 * One per process: hears each commit that appended events (NOTIFY `<workspace>:<txid>`), reads
 * exactly that transaction's events and hands them to `deliver` (local subscribers), one
 * transaction after another in arrival order. Every process runs its own, so an event written
 * through any process reaches subscribers on all of them. Live delivery is at-most-once (a
 * notification sent while the listen connection is down is lost): a client that must not miss
 * anything catches up through GET /v1/events.
 */
export function createEventRelay (opts: { db: Db, log: FastifyBaseLogger, deliver: (events: LoggedEvent[]) => void, wants?: (workspaceId: string) => boolean, heartbeatMs?: number }) {
  let unlisten: Unlisten | undefined
  let heartbeat: NodeJS.Timeout | undefined
  let chain = Promise.resolve()

  function onNotify (payload: string) {
    const m = payloadShape.exec(payload)
    if (!m) return opts.log.warn({ payload }, 'event relay: unexpected notification')
    const [, workspaceId, txid] = m
    if (opts.wants && !opts.wants(workspaceId)) return
    chain = chain.then(async () => {
      const events = await inWorkspace(opts.db, workspaceId, (tx) => eventsOfTransaction(tx, workspaceId, txid))
      if (events.length) opts.deliver(events)
    }).catch((err) => opts.log.error({ err }, 'event relay: reading a transaction\'s events failed'))
  }

  return {
    async start () {
      unlisten ??= await listen(opts.db, EVENTS_CHANNEL, onNotify)
      heartbeat ??= startHeartbeat(opts.db, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, opts.log)
    },
    /** Stops listening and lets the reads under way finish (before the database closes). */
    async stop () {
      clearInterval(heartbeat)
      heartbeat = undefined
      const u = unlisten
      unlisten = undefined
      if (u) await u().catch((err) => opts.log.warn({ err }, 'event relay: unlisten failed'))
      await chain
    }
  }
}

export type EventRelay = ReturnType<typeof createEventRelay>
