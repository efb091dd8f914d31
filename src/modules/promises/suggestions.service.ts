import { and, asc, desc, eq, gt, lt, sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { Db, Tx } from '../../db/client.js'
import { databaseNow } from '../../db/columns.js'
import { inWorkspace } from '../../db/tenant.js'
import { jsonRows } from '../../db/json-rows.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, keysetRead, toDirectedPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { DomainError, notFound } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import type { WorkspacesService } from '../workspaces/workspaces.service.js'
import { detectCommitments } from './commitments.detect.js'
import type { PromiseDto } from './promises.schemas.js'
import type { PromisesService } from './promises.service.js'
import { promiseSuggestions } from './promises.table.js'

export const Suggestion = z.object({
  id: z.string(),
  contactId: z.string(),
  interactionId: z.string(),
  description: z.string(),
  kind: z.string(),
  dueAt: z.iso.datetime(),
  dueText: z.string().meta({ description: 'The words the due date was read from' }),
  status: z.enum(['pending', 'accepted', 'dismissed']),
  promiseId: z.string().nullable(),
  createdAt: z.iso.datetime()
}).meta({ id: 'PromiseSuggestion' })
export type SuggestionDto = z.output<typeof Suggestion>
type Row = typeof promiseSuggestions.$inferSelect

const toDto = (r: Row): SuggestionDto => ({
  id: r.id, contactId: r.contactId, interactionId: r.interactionId, description: r.description, kind: r.kind,
  dueAt: r.dueAt.toISOString(), dueText: r.dueText, status: r.status, promiseId: r.promiseId, createdAt: r.createdAt.toISOString()
})

export interface OutboundText { id: string, contactId: string, body: string | null, subject: string | null, occurredAt: Date }

/**
 * Commitments found in what we send become suggestions, never promises: a person accepts
 * (with any correction) or dismisses each one.
 */
export function createSuggestionsService ({ db, promises, workspaces }: { db: Db, promises: PromisesService, workspaces: WorkspacesService }) {
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>) => inWorkspace(db, ctx.workspaceId, fn)

  async function requireRow (tx: Tx, ctx: Pick<RequestContext, 'workspaceId'>, id: string) {
    const [row] = await tx.select().from(promiseSuggestions).where(and(eq(promiseSuggestions.workspaceId, ctx.workspaceId), eq(promiseSuggestions.id, id))).limit(1).for('update')
    if (!row) throw notFound('suggestion.not_found', id)
    if (row.status !== 'pending') throw new DomainError('suggestion.already_decided', `Suggestion ${id} is ${row.status}`)
    return row
  }

  return {
    /**
     * Runs in the transaction that logs outbound interactions (one, or an import batch: one read of
     * the workspace's time zone and one insert for all of them).
     */
    async suggestFrom (tx: Tx, ctx: Pick<RequestContext, 'workspaceId'>, sent: OutboundText[]): Promise<void> {
      const texts = sent.flatMap((interaction) => {
        const text = [interaction.subject, interaction.body].filter(Boolean).join('\n')
        return text ? [{ interaction, text }] : []
      })
      if (texts.length === 0) return
      const timeZone = await workspaces.timeZone(tx, ctx.workspaceId)
      const rows = texts.flatMap(({ interaction, text }) => detectCommitments(text, { reference: interaction.occurredAt, timeZone }).map((c) => ({
        workspaceId: ctx.workspaceId, id: newId('suggestion'), contactId: interaction.contactId, interactionId: interaction.id,
        description: c.description, kind: c.kind, dueAt: c.dueAt, dueText: c.dueText
      })))
      if (rows.length === 0) return
      // One statement whatever the number found (a batch of long messages could find many).
      const r = jsonRows(promiseSuggestions, ['workspaceId', 'id', 'contactId', 'interactionId', 'description', 'kind', 'dueAt', 'dueText'], rows)
      await tx.execute(sql`insert into ${promiseSuggestions} (${r.columns}) select ${r.fields} from ${r.from}`)
    },

    async list (ctx: RequestContext, q: SuggestionFilter & PageRequest): Promise<Page<SuggestionDto>> {
      const read = keysetRead(q, (c) => decodeCursor<{ id: string }>(c, ['id']).id)
      const rows = await ws(ctx, (tx) => {
        const where = suggestionConditions(ctx, q)
        if (read.below) where.push(lt(promiseSuggestions.id, read.below))
        if (read.above) where.push(gt(promiseSuggestions.id, read.above))
        const order = read.lowFirst ? asc(promiseSuggestions.id) : desc(promiseSuggestions.id)
        return tx.select().from(promiseSuggestions).where(and(...where)).orderBy(order).limit(q.limit + 1)
      })
      const page = toDirectedPage(rows, q, (r) => ({ id: r.id }))
      return { ...page, items: page.items.map(toDto) }
    },

    /** How many suggestions match a list's filters (GraphQL totalCount). */
    async count (ctx: RequestContext, q: SuggestionFilter): Promise<number> {
      return ws(ctx, (tx) => tx.$count(promiseSuggestions, and(...suggestionConditions(ctx, q))))
    },

    /** Makes the promise (made in the interaction the words came from), with any correction. */
    async accept (ctx: RequestContext, id: string, overrides: { description?: string, dueAt?: string, kind?: string }): Promise<{ suggestion: SuggestionDto, promise: PromiseDto }> {
      return ws(ctx, async (tx) => {
        const row = await requireRow(tx, ctx, id)
        const promise = await promises.create(ctx, {
          contactId: row.contactId,
          description: overrides.description ?? row.description,
          kind: overrides.kind ?? row.kind,
          dueAt: overrides.dueAt ?? row.dueAt.toISOString(),
          madeInInteractionId: row.interactionId
        }, tx)
        const [updated] = await tx.update(promiseSuggestions).set({ status: 'accepted', promiseId: promise.id, updatedAt: databaseNow(promiseSuggestions.createdAt) })
          .where(and(eq(promiseSuggestions.workspaceId, ctx.workspaceId), eq(promiseSuggestions.id, id))).returning()
        return { suggestion: toDto(updated), promise }
      })
    },

    async dismiss (ctx: RequestContext, id: string): Promise<SuggestionDto> {
      return ws(ctx, async (tx) => {
        await requireRow(tx, ctx, id)
        const [updated] = await tx.update(promiseSuggestions).set({ status: 'dismissed', updatedAt: databaseNow(promiseSuggestions.createdAt) })
          .where(and(eq(promiseSuggestions.workspaceId, ctx.workspaceId), eq(promiseSuggestions.id, id))).returning()
        return toDto(updated)
      })
    }
  }
}

export type SuggestionsService = ReturnType<typeof createSuggestionsService>

interface SuggestionFilter { status?: Row['status'], contactId?: string }

function suggestionConditions (ctx: RequestContext, q: SuggestionFilter): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [eq(promiseSuggestions.workspaceId, ctx.workspaceId)]
  if (q.status) where.push(eq(promiseSuggestions.status, q.status))
  if (q.contactId) where.push(eq(promiseSuggestions.contactId, q.contactId))
  return where
}
