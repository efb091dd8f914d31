import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { RequestContext } from '../../lib/context.js'
import type { Page } from '../../lib/cursor.js'
import { eventTypes, readScopeOf } from './event-types.js'
import { listEvents, type LoggedEvent } from './events.log.js'
import type { EventListInput } from './events.schemas.js'

/** Types a token may read: events:read, plus the read scope of each event's resource. */
export const visibleTypes = (scopes: ReadonlySet<string>): string[] => eventTypes.filter((t) => scopes.has(readScopeOf(t)))

export function createEventsService ({ db }: { db: Db }) {
  return {
    /** The workspace's change feed after a cursor (GET /v1/events). */
    async list (ctx: RequestContext, q: EventListInput): Promise<Page<Omit<LoggedEvent, 'workspaceId'>>> {
      const allowed = visibleTypes(ctx.scopes)
      const types = q.types?.length ? q.types.filter((t) => allowed.includes(t)) : allowed
      // Asked only for types this token cannot see: an empty page, the cursor where it was.
      if (types.length === 0) return { items: [], nextCursor: q.after ?? null }
      const page = await inWorkspace(db, ctx.workspaceId, (tx) => listEvents(tx, { workspaceId: ctx.workspaceId, after: q.after, types, limit: q.limit }))
      return { items: page.items.map(({ workspaceId, ...e }) => e), nextCursor: page.nextCursor }
    }
  }
}

export type EventsService = ReturnType<typeof createEventsService>
