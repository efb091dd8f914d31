import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../../db/client.js'
import { readInWorkspace } from '../../db/tenant.js'
import type { LogPosition } from './events.repository.js'
import { currentSnapshot, eventsCommittedSince, type LoggedEvent } from './events.log.js'

const DEFAULT_POLL_MS = 100
// Events read at most per workspace and read; a bigger transaction (an import batch) takes several.
const READ_LIMIT = 1_000

/**
 * Where a workspace's live delivery stands: the snapshot whose unseen transactions come next; while
 * a read takes several pages, the snapshot of its first page (`upTo`) and the last event delivered.
 */
interface Position { since: string, upTo?: string, cursor?: LogPosition }

/**
 * One per process: reads the events committed in the workspaces that have subscribers here and
 * hands them to `deliver` (local subscribers), each transaction's events together, in the order
 * the reads find them committed. Every process runs its own, so an event written through any
 * process reaches subscribers on all of them.
 *
 * Why it reads, every `pollMs`, instead of LISTEN/NOTIFY: a transaction that NOTIFYs takes a
 * database-wide lock at commit and holds it through its WAL flush, so every write transaction of
 * every workspace (all of them append events) committed one at a time, whether or not anybody
 * listened: measured, creating interactions went twice as fast with the notifying trigger off
 * (bench/README.md). Each read asks, in one statement, for the events of the transactions that the
 * previous read's snapshot did not see and that are visible now, and keeps this read's snapshot
 * for the next: nothing is missed or read twice, whatever order transactions commit in, and a
 * workspace without subscribers here costs nothing. Live delivery starts at the subscription
 * (`follow`) and is at-most-once (a process restart loses what it had not delivered): a client that
 * must not miss anything catches up through GET /v1/events.
 */
export function createEventRelay (opts: { db: Db, log: FastifyBaseLogger, deliver: (events: LoggedEvent[]) => void, workspaces: () => Iterable<string>, pollMs?: number }) {
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const positions = new Map<string, Position | Promise<Position>>()
  let timer: NodeJS.Timeout | undefined
  let reading: Promise<void> | undefined
  let stopped = true

  const start = (workspaceId: string): Promise<Position> =>
    readInWorkspace(opts.db, workspaceId, (tx) => currentSnapshot(tx)).then((since) => ({ since }))

  async function readWorkspace (workspaceId: string): Promise<void> {
    const position = await positions.get(workspaceId)
    if (!position) return
    for (;;) {
      const read = await readInWorkspace(opts.db, workspaceId, (tx) => eventsCommittedSince(tx, workspaceId, position, READ_LIMIT))
      // A transaction's events together; a transaction cut by the read limit continues in the next batch.
      let batch: LoggedEvent[] = []
      let txid: string | undefined
      for (const e of read.events) {
        if (e.txid !== txid && batch.length) opts.deliver(batch)
        if (e.txid !== txid) batch = []
        txid = e.txid
        batch.push(e.event)
      }
      if (batch.length) opts.deliver(batch)
      // The pages after the first stop at the first page's snapshot, which is the next starting
      // point: a transaction that commits meanwhile behind the cursor is then read next time,
      // not skipped, and one ahead of it is not read twice.
      if (!read.more) {
        position.since = position.upTo ?? read.snapshot
        position.upTo = position.cursor = undefined
        return
      }
      position.upTo ??= read.snapshot
      position.cursor = read.events[read.events.length - 1].at
    }
  }

  async function readAll (): Promise<void> {
    const wanted = new Set(opts.workspaces())
    for (const workspaceId of positions.keys()) if (!wanted.has(workspaceId)) positions.delete(workspaceId)
    for (const workspaceId of wanted) {
      if (!positions.has(workspaceId)) positions.set(workspaceId, start(workspaceId))
      await readWorkspace(workspaceId).catch((err) => {
        // Started again at the next read: what committed meanwhile is not delivered live (GET /v1/events has it).
        positions.delete(workspaceId)
        opts.log.warn({ err, workspaceId }, 'event relay: reading new events failed')
      })
    }
  }

  function schedule (): void {
    if (stopped) return
    timer = setTimeout(() => {
      reading = readAll().finally(() => { reading = undefined; schedule() })
    }, pollMs)
    timer.unref()
  }

  return {
    async start () {
      if (!stopped) return
      stopped = false
      schedule()
    },
    /**
     * Delivery for a workspace starts with what commits after this resolves: a subscription waits
     * for it, so that a change its client makes right after subscribing is delivered.
     */
    async follow (workspaceId: string): Promise<void> {
      let position = positions.get(workspaceId)
      if (!position) positions.set(workspaceId, position = start(workspaceId))
      // A failed start is dropped and tried again by the next read.
      await Promise.resolve(position).catch(() => {})
    },
    /** Stops reading and lets the read under way finish (before the database closes). */
    async stop () {
      stopped = true
      clearTimeout(timer)
      await reading
    }
  }
}

export type EventRelay = ReturnType<typeof createEventRelay>
