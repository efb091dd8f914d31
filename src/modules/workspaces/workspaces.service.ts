import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { RequestContext } from '../../lib/context.js'
import { workspaces } from './workspaces.table.js'

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
    }
  }
}

export type WorkspacesService = ReturnType<typeof createWorkspacesService>
