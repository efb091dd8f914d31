import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db, Tx } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, keysetRead, toDirectedPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { DomainError, notFound, validationError } from '../../lib/errors.js'
import { assertVersion } from '../../lib/etag.js'
import { newId } from '../../lib/ids.js'
import * as repo from './api-keys.repository.js'
import type { ApiKeyCreateInput, ApiKeyDto, ApiKeyListInput } from './api-keys.schemas.js'

/** Every key starts with this, so the auth plugin tells a key from a JWT without trying both. */
export const API_KEY_PREFIX = 'rpk_live_'
const shownPrefixLength = API_KEY_PREFIX.length + 8
// lastUsedAt is a hint for people, not an audit log: one write a minute per key at most.
const touchEveryMs = 60_000

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex')

/** What a valid key lets its bearer do. */
export interface ApiKeyPrincipal { workspaceId: string, keyId: string, scopes: string[] }

const iso = (d: Date | null) => d ? d.toISOString() : null

const toDto = (r: repo.ApiKeyRow): ApiKeyDto => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: r.scopes,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  lastUsedAt: iso(r.lastUsedAt),
  expiresAt: iso(r.expiresAt),
  revokedAt: iso(r.revokedAt),
  version: r.version
})

export function createApiKeysService ({ db, clock }: { db: Db, clock: Clock }) {
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>) => inWorkspace(db, ctx.workspaceId, fn)

  const usable = (row: repo.ApiKeyRow, now: Date) => row.revokedAt === null && (row.expiresAt === null || row.expiresAt > now)

  return {
    /** Creates a key and returns its secret: the only time anyone sees it. */
    async create (ctx: RequestContext, input: ApiKeyCreateInput): Promise<ApiKeyDto & { secret: string }> {
      // A key never gets more than its creator holds, or keys would be a way to widen a token.
      const missing = input.scopes.find((s) => !ctx.scopes.has(s))
      if (missing) throw new DomainError('auth.forbidden', `A key cannot get the scope ${missing}, which this token lacks`, { requiredScope: missing })
      const now = clock.now()
      const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null
      if (expiresAt && expiresAt <= now) throw validationError([{ pointer: '/expiresAt', message: 'Must be in the future', code: 'too_small' }])
      const secret = API_KEY_PREFIX + randomBytes(32).toString('base64url')
      const row = await ws(ctx, (tx) => repo.insert(tx, {
        workspaceId: ctx.workspaceId,
        id: newId('apiKey'),
        name: input.name,
        prefix: secret.slice(0, shownPrefixLength),
        secretHash: hashSecret(secret),
        scopes: [...new Set(input.scopes)],
        createdBy: ctx.actor,
        createdAt: now,
        updatedAt: now,
        expiresAt
      }))
      return { ...toDto(row), secret }
    },

    async get (ctx: RequestContext, id: string): Promise<ApiKeyDto> {
      const row = await ws(ctx, (tx) => repo.find(tx, ctx.workspaceId, id))
      if (!row) throw notFound('apikey.not_found', id)
      return toDto(row)
    },

    /** Newest first; REST reads forward with `after`, GraphQL also backward (`last`/`before`). */
    async list (ctx: RequestContext, query: ApiKeyListInput & PageRequest): Promise<Page<ApiKeyDto>> {
      const range = keysetRead(query, (c) => decodeCursor<{ id: string }>(c, ['id']).id)
      const rows = await ws(ctx, (tx) => repo.list(tx, ctx.workspaceId, query.limit + 1, range))
      const page = toDirectedPage(rows, query, (r) => ({ id: r.id }))
      return { ...page, items: page.items.map(toDto) }
    },

    /** How many keys the workspace has, revoked ones included (GraphQL totalCount). */
    async count (ctx: RequestContext): Promise<number> {
      return ws(ctx, (tx) => repo.count(tx, ctx.workspaceId))
    },

    /** Revokes a key; it fails from the very next request (no cache anywhere holds it). */
    async revoke (ctx: RequestContext, id: string, opts: { expectedVersion?: number } = {}): Promise<void> {
      await ws(ctx, async (tx) => {
        const row = await repo.find(tx, ctx.workspaceId, id)
        if (!row) throw notFound('apikey.not_found', id)
        assertVersion(opts.expectedVersion, row.version)
        if (row.revokedAt === null) await repo.revoke(tx, ctx.workspaceId, id, clock.now())
      })
    },

    /** The principal of a presented secret, or null when it is unknown, revoked or expired. */
    async authenticate (secret: string): Promise<ApiKeyPrincipal | null> {
      if (!secret.startsWith(API_KEY_PREFIX) || secret.length > 200) return null
      const hash = hashSecret(secret)
      const row = await repo.findBySecretHash(db, hash)
      // The index lookup already matched; the constant-time compare keeps that true even if the
      // lookup ever became a prefix or range scan.
      if (!row || !timingSafeEqual(Buffer.from(row.secretHash, 'hex'), Buffer.from(hash, 'hex'))) return null
      const now = clock.now()
      if (!usable(row, now)) return null
      if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() > touchEveryMs) {
        await repo.touch(db, row.workspaceId, row.id, now)
      }
      return { workspaceId: row.workspaceId, keyId: row.id, scopes: row.scopes }
    },

    /** Whether the key behind an exchanged token still works (revocation reaches its tokens too). */
    async isUsable (keyId: string, workspaceId: string): Promise<boolean> {
      const row = await repo.findById(db, keyId)
      return row !== undefined && row.workspaceId === workspaceId && usable(row, clock.now())
    }
  }
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>
