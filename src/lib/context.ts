import type { FastifyBaseLogger } from 'fastify'
import { DomainError } from './errors.js'

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

/** Refuses (403 on REST, auth.forbidden on GraphQL) a context whose token lacks the scope. */
export function requireScope (ctx: RequestContext, scope: Scope): void {
  if (!ctx.scopes.has(scope)) throw new DomainError('auth.forbidden', `This token lacks the scope ${scope}`, { requiredScope: scope })
}
