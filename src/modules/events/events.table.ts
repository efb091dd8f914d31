import { sql } from 'drizzle-orm'
import { bigserial, customType, index, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { tstz, workspaceId } from '../../db/columns.js'

// xid8 of the writing transaction (as promise_events): readers only take events of transactions
// that can no longer commit behind them (below the snapshot's xmin), so a cursor never skips one.
const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' })

/**
 * The workspace event log: one row per change, written in the transaction of the change. The
 * global feed (GET /v1/events), GraphQL subscriptions and outbound webhooks all read it.
 * See docs/event-log.md.
 */
export const events = pgTable('events', {
  workspaceId: workspaceId(),
  seq: bigserial('seq', { mode: 'number' }).notNull(),
  txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
  id: text('id').notNull(),
  type: text('type').notNull(),
  subjectId: text('subject_id').notNull(),
  /** The public REST representation of the subject after the change. */
  data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  occurredAt: tstz('occurred_at').notNull()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.seq] }),
  uniqueIndex('events_id_idx').on(t.workspaceId, t.id),
  index('events_feed_idx').on(t.workspaceId, t.txid, t.seq),
  // Cross-workspace readers (webhook fan-out) walk every workspace's events in commit-safe order.
  index('events_global_idx').on(t.txid, t.seq)
])
