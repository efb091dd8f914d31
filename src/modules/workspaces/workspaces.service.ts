import { eq } from 'drizzle-orm'
import type { Db, Tx } from '../../db/client.js'
import { databaseNow } from '../../db/columns.js'
import { inWorkspace } from '../../db/tenant.js'
import type { RequestContext } from '../../lib/context.js'
import type { WorkspaceDto, WorkspacePatchInput } from './workspaces.schemas.js'
import { workspaces } from './workspaces.table.js'

const toDto = (r: typeof workspaces.$inferSelect): WorkspaceDto => ({
  id: r.id, name: r.name, timeZone: r.timeZone, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString()
})

export function createWorkspacesService ({ db }: { db: Db }) {
  // Workspaces named by a valid token come into being on first use: minting a token needs no
  // database (so `npm run token` works while the embedded server holds the data directory).
  const known = new Set<string>()
  return {
    async ensure (ctx: Pick<RequestContext, 'workspaceId'>): Promise<void> {
      if (known.has(ctx.workspaceId)) return
      await inWorkspace(db, ctx.workspaceId, (tx) =>
        tx.insert(workspaces).values({ id: ctx.workspaceId, name: ctx.workspaceId }).onConflictDoNothing())
      known.add(ctx.workspaceId)
    },

    async get (ctx: RequestContext): Promise<WorkspaceDto> {
      return inWorkspace(db, ctx.workspaceId, async (tx) => toDto((await tx.select().from(workspaces).where(eq(workspaces.id, ctx.workspaceId)))[0]))
    },

    async update (ctx: RequestContext, patch: WorkspacePatchInput): Promise<WorkspaceDto> {
      return inWorkspace(db, ctx.workspaceId, async (tx) => {
        const [row] = await tx.update(workspaces).set({ ...patch, updatedAt: databaseNow(workspaces.createdAt) }).where(eq(workspaces.id, ctx.workspaceId)).returning()
        return toDto(row)
      })
    },

    async timeZone (tx: Tx, workspaceId: string): Promise<string> {
      const [row] = await tx.select({ timeZone: workspaces.timeZone }).from(workspaces).where(eq(workspaces.id, workspaceId))
      return row?.timeZone ?? 'UTC'
    }
  }
}

export type WorkspacesService = ReturnType<typeof createWorkspacesService>
