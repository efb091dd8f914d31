import { and, desc, eq, inArray, isNull, or } from 'drizzle-orm'
import { z } from 'zod'
import type { Db, Tx } from '../../db/client.js'
import { databaseNow } from '../../db/columns.js'
import { inWorkspace } from '../../db/tenant.js'
import type { RequestContext } from '../../lib/context.js'
import { DomainError, notFound } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import type { Clock } from '../../lib/clock.js'
import { appendEvent } from '../events/events.log.js'
import type { IdentitiesService } from '../identities/identities.service.js'
import type { InteractionsService } from '../interactions/interactions.service.js'
import { setMergedInto } from './contacts.repository.js'
import type { ContactsService } from './contacts.service.js'
import { contactMerges } from './merges.table.js'
import { groupedInKeyOrder } from '../../lib/key-order.js'

export const Merge = z.object({
  id: z.string(),
  survivorId: z.string(),
  mergedId: z.string(),
  moved: z.object({ identities: z.array(z.string()), interactions: z.array(z.string()), promises: z.array(z.string()) }),
  actor: z.string(),
  mergedAt: z.iso.datetime(),
  undoneAt: z.iso.datetime().nullable()
}).meta({ id: 'ContactMerge' })
export type MergeDto = z.output<typeof Merge>
type MergeRow = typeof contactMerges.$inferSelect

const toDto = (r: MergeRow): MergeDto => ({
  id: r.id, survivorId: r.survivorId, mergedId: r.mergedId, moved: r.moved, actor: r.actor,
  mergedAt: r.mergedAt.toISOString(), undoneAt: r.undoneAt?.toISOString() ?? null
})

/** Things other modules own that follow a contact through a merge (promises join later). */
export interface MergeParticipant { name: 'identities' | 'interactions' | 'promises', move: (tx: Tx, ws: string, from: string, to: string, only?: string[]) => Promise<string[]> }

export function createMergesService (deps: { db: Db, clock: Clock, contacts: ContactsService, identities: IdentitiesService, interactions: InteractionsService, participants?: MergeParticipant[] }) {
  const { db, contacts } = deps
  const participants: MergeParticipant[] = [
    { name: 'identities', move: deps.identities.moveAll },
    { name: 'interactions', move: deps.interactions.moveAll },
    ...(deps.participants ?? [])
  ]

  return {
    /** Folds `otherId` into `survivorId`; the other id keeps resolving to the survivor. */
    async merge (ctx: RequestContext, survivorId: string, otherId: string): Promise<MergeDto> {
      return inWorkspace(db, ctx.workspaceId, async (tx) => {
        const survivor = await contacts.resolveId(ctx, survivorId, tx)
        const other = await contacts.resolveId(ctx, otherId, tx)
        if (survivor === other) throw new DomainError('contact.merge_invalid', 'A contact cannot be merged into itself')
        const moved = { identities: [] as string[], interactions: [] as string[], promises: [] as string[] }
        for (const p of participants) moved[p.name] = await p.move(tx, ctx.workspaceId, other, survivor)
        await setMergedInto(tx, ctx.workspaceId, other, survivor)
        const [row] = await tx.insert(contactMerges).values({ workspaceId: ctx.workspaceId, id: newId('merge'), survivorId: survivor, mergedId: other, moved, actor: ctx.actor }).returning()
        // The merge record says both sides (survivorId, mergedId) and what moved.
        await appendEvent(tx, { workspaceId: ctx.workspaceId, type: 'contact.merged', subjectId: survivor, data: toDto(row), occurredAt: deps.clock.now() })
        return toDto(row)
      })
    },

    /** Undoes a merge: the merged contact returns with exactly what moved (and is still there). */
    async unmerge (ctx: RequestContext, contactId: string, mergeId: string): Promise<MergeDto> {
      return inWorkspace(db, ctx.workspaceId, async (tx) => {
        const [row] = await tx.select().from(contactMerges).where(and(eq(contactMerges.workspaceId, ctx.workspaceId), eq(contactMerges.id, mergeId),
          or(eq(contactMerges.survivorId, contactId), eq(contactMerges.mergedId, contactId)))).limit(1)
        if (!row) throw notFound('merge.not_found', mergeId)
        if (row.undoneAt) throw new DomainError('merge.already_undone', `Merge ${mergeId} was already undone`)
        const later = await tx.select({ id: contactMerges.id }).from(contactMerges).where(and(eq(contactMerges.workspaceId, ctx.workspaceId),
          eq(contactMerges.mergedId, row.survivorId), isNull(contactMerges.undoneAt))).limit(1)
        if (later.length > 0) throw new DomainError('contact.merge_invalid', 'The survivor was itself merged since; undo that merge first')
        for (const p of participants) await p.move(tx, ctx.workspaceId, row.survivorId, row.mergedId, row.moved[p.name])
        await setMergedInto(tx, ctx.workspaceId, row.mergedId, null)
        const [undone] = await tx.update(contactMerges).set({ undoneAt: databaseNow() })
          .where(and(eq(contactMerges.workspaceId, ctx.workspaceId), eq(contactMerges.id, row.id))).returning()
        return toDto(undone)
      })
    },

    async list (ctx: RequestContext, contactId: string): Promise<MergeDto[]> {
      return inWorkspace(db, ctx.workspaceId, async (tx) => {
        const id = await contacts.resolveId(ctx, contactId, tx)
        const rows = await tx.select().from(contactMerges).where(and(eq(contactMerges.workspaceId, ctx.workspaceId),
          or(eq(contactMerges.survivorId, id), eq(contactMerges.mergedId, id)))).orderBy(desc(contactMerges.mergedAt))
        return rows.map(toDto)
      })
    },

    /** The merges of many contacts (as survivor or merged) in one statement: the GraphQL loader. */
    async listMany (ctx: RequestContext, contactIds: string[]): Promise<MergeDto[][]> {
      if (contactIds.length === 0) return []
      const rows = await inWorkspace(db, ctx.workspaceId, (tx) => tx.select().from(contactMerges).where(and(eq(contactMerges.workspaceId, ctx.workspaceId),
        or(inArray(contactMerges.survivorId, contactIds), inArray(contactMerges.mergedId, contactIds)))).orderBy(desc(contactMerges.mergedAt)))
      return groupedInKeyOrder(contactIds, rows, (r) => [r.survivorId, r.mergedId]).map((group) => group.map(toDto))
    }
  }
}

export type MergesService = ReturnType<typeof createMergesService>
