import type { FastifyBaseLogger } from 'fastify'
import { guarded } from '../../db/breaker.js'
import type { Db } from '../../db/client.js'
import type { LogPosition } from './events.repository.js'
import { currentSnapshot, eventsCommittedSince, type LoggedEvent } from './events.log.js'

const DEFAULT_POLL_MS = 100
// Events per statement at most; a read finding more (an import batch) takes several.
const READ_LIMIT = 1_000
// How long a subscription waits for its workspace's first read before going on without it.
const FOLLOW_WAIT_MS = 5_000

/**
 * Where live delivery stands: the snapshot whose unseen transactions come next; while a read takes
 * several pages, the snapshot of its first page (`upTo`) and the last event delivered.
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
 * (bench/README.md). Each read asks, in one statement for all the workspaces followed here (as the
 * owner, on the log's (txid, seq) index), for the events of the transactions that the previous
 * read's snapshot did not see and that are visible now, and keeps this read's snapshot for the
 * next: nothing is missed or read twice, whatever order transactions commit in, a process costs one
 * statement a tick however many workspaces it serves, and nothing when it serves none.
 *
 * A workspace joins with the next read (`follow` asks for it at once): what that read finds for it
 * committed before the subscription and is not delivered; from then on it is. Live delivery is
 * at-most-once (a failed read, or a restart, loses what was not delivered): a client that must not
 * miss anything catches up through GET /v1/events.
 */
export function createEventRelay (opts: { db: Db, log: FastifyBaseLogger, deliver: (events: LoggedEvent[]) => void, workspaces: () => Iterable<string>, pollMs?: number }) {
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  // Undefined until the first read (and after a failed one, or when nobody follows): that read takes its snapshot.
  let position: Position | undefined
  const live = new Set<string>()
  // Workspaces waiting for their first read, with the follow() calls to answer after it.
  const joining = new Map<string, Array<() => void>>()
  let timer: NodeJS.Timeout | undefined
  let reading: Promise<void> | undefined
  let stopped = true
  let failing = false

  /** Reads what committed since `position` in these workspaces; what `quiet` ones wrote is skipped. */
  async function read (workspaceIds: string[], quiet: Set<string>): Promise<void> {
    if (!position) {
      position = { since: await currentSnapshot(opts.db) }
      return
    }
    for (;;) {
      const page = await eventsCommittedSince(opts.db, workspaceIds, position, READ_LIMIT)
      // A transaction's events together; a transaction cut by the read limit continues in the next batch.
      let batch: LoggedEvent[] = []
      let txid: string | undefined
      for (const e of page.events) {
        if (e.txid !== txid && batch.length) opts.deliver(batch)
        if (e.txid !== txid) batch = []
        txid = e.txid
        if (!quiet.has(e.event.workspaceId)) batch.push(e.event)
      }
      if (batch.length) opts.deliver(batch)
      // The pages after the first stop at the first page's snapshot, which is the next starting
      // point: a transaction that commits meanwhile behind the cursor is then read next time,
      // not skipped, and one ahead of it is not read twice.
      if (!page.more) {
        position = { since: position.upTo ?? page.snapshot }
        return
      }
      position.upTo ??= page.snapshot
      position.cursor = page.events[page.events.length - 1].at
    }
  }

  /** One tick; false when the read failed. */
  async function readAll (): Promise<boolean> {
    const wanted = new Set(opts.workspaces())
    for (const workspaceId of live) if (!wanted.has(workspaceId)) live.delete(workspaceId)
    // Subscribers that did not wait for follow() (a stopped relay) join like the others.
    const newcomers = new Set(joining.keys())
    for (const workspaceId of wanted) if (!live.has(workspaceId)) newcomers.add(workspaceId)
    const workspaceIds = [...live, ...newcomers]
    // Nobody to serve: the next reader starts from a fresh snapshot, not from an ever older one.
    if (workspaceIds.length === 0) {
      position = undefined
      return true
    }
    try {
      // Through the circuit breaker: while the database is known to be away, no read is sent.
      await guarded(opts.db, () => read(workspaceIds, newcomers))
    } catch (err) {
      // Started again from a fresh snapshot: what committed meanwhile is not delivered live (GET
      // /v1/events has it). Newcomers join with a read that works.
      position = undefined
      // Once per outage, not every tick.
      if (!failing) opts.log.warn({ err }, 'event relay: reading new events failed; retrying every tick')
      failing = true
      return false
    }
    if (failing) opts.log.info('event relay: reading again')
    failing = false
    for (const workspaceId of newcomers) {
      live.add(workspaceId)
      for (const answer of joining.get(workspaceId) ?? []) answer()
      joining.delete(workspaceId)
    }
    return true
  }

  function schedule (delayMs: number): void {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      // Newcomers that arrived during this read join with the next one, at once.
      reading = readAll().then((ok) => { reading = undefined; schedule(ok && joining.size ? 0 : pollMs) }, () => { reading = undefined; schedule(pollMs) })
    }, delayMs)
    timer.unref()
  }

  const answerNewcomers = () => {
    for (const answers of joining.values()) for (const answer of answers) answer()
    joining.clear()
  }

  return {
    async start () {
      if (!stopped) return
      stopped = false
      schedule(pollMs)
    },
    /**
     * Delivery for a workspace starts with what commits after this resolves: a subscription waits
     * for it, so that a change its client makes right after subscribing is delivered. It resolves
     * after the next read that works (started now unless one is under way), at once when the relay is
     * stopped, and after FOLLOW_WAIT_MS at most (the database away).
     */
    async follow (workspaceId: string): Promise<void> {
      if (live.has(workspaceId) || stopped) return
      let waited: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        const answers = joining.get(workspaceId)
        if (answers) answers.push(resolve)
        else joining.set(workspaceId, [resolve])
        if (!reading) schedule(0)
        // The database away: the subscription goes on, and its workspace joins once reads work again.
        waited = setTimeout(resolve, FOLLOW_WAIT_MS)
      })
      clearTimeout(waited)
    },
    /** Stops reading and lets the read under way finish (before the database closes). */
    async stop () {
      stopped = true
      clearTimeout(timer)
      await reading
      answerNewcomers()
      // A later start() begins from a fresh snapshot, not from this one (a backlog nobody waits for).
      position = undefined
      live.clear()
    }
  }
}

export type EventRelay = ReturnType<typeof createEventRelay>
