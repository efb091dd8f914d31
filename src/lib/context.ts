import type { FastifyBaseLogger } from 'fastify'

/** Who is asking, for which workspace, with which rights: built once per request from the token. */
export interface RequestContext {
  workspaceId: string
  actor: string
  scopes: ReadonlySet<string>
  log: FastifyBaseLogger
}

export const allScopes = [
  'contacts:read', 'contacts:write',
  'channels:read', 'channels:write',
  'interactions:read', 'interactions:write', 'messages:send',
  'promises:read', 'promises:write',
  'imports:read', 'imports:write',
  'events:read',
  'webhooks:read', 'webhooks:write',
  'admin'
] as const
export type Scope = (typeof allScopes)[number]
