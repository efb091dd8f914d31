import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import { EVENTS_CHANNEL, eventsOfTransaction, type LoggedEvent } from './events.log.js'

type Unlisten = () => Promise<void>
interface PostgresJsClient { listen: (channel: string, fn: (payload: string) => void) => Promise<{ unlisten: Unlisten }> }
interface PgliteClient { listen: (channel: string, fn: (payload: string) => void) => Promise<Unlisten>, waitReady?: unknown }

/**
 * LISTEN on the event log's channel through whichever driver runs: postgres.js opens one
 * dedicated connection (reconnecting by itself), PGlite delivers its own NOTIFYs in process.
 */
async function listen (db: Db, fn: (payload: string) => void): Promise<Unlisten> {
  const client = (db as unknown as { $client: PostgresJsClient | PgliteClient }).$client
  if ('waitReady' in client) return (client as PgliteClient).listen(EVENTS_CHANNEL, fn)
  const { unlisten } = await (client as PostgresJsClient).listen(EVENTS_CHANNEL, fn)
  return unlisten
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
export function createEventRelay (opts: { db: Db, log: FastifyBaseLogger, deliver: (events: LoggedEvent[]) => void, wants?: (workspaceId: string) => boolean }) {
  let unlisten: Unlisten | undefined
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
      unlisten ??= await listen(opts.db, onNotify)
    },
    /** Stops listening and lets the reads under way finish (before the database closes). */
    async stop () {
      const u = unlisten
      unlisten = undefined
      if (u) await u().catch((err) => opts.log.warn({ err }, 'event relay: unlisten failed'))
      await chain
    }
  }
}

export type EventRelay = ReturnType<typeof createEventRelay>
