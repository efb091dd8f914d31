import { createHash } from 'node:crypto'
import { and, eq, lt, sql } from 'drizzle-orm'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../db/client.js'
import { inWorkspace } from '../db/tenant.js'
import { systemClock, type Clock } from '../lib/clock.js'
import { DomainError, validationError } from '../lib/errors.js'
import { idempotencyKeys } from './idempotency.table.js'
import { addRouteHooks, takesPost } from './route-hooks.js'

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
/** A claim still `running` this long after it was taken belongs to a process that died. */
export const IDEMPOTENCY_LEASE_MS = 2 * 60 * 1000
const keyShape = /^[\x21-\x7e]{1,255}$/
// Headers that are part of the answer itself; rate-limit and per-request headers are not replayed.
const replayedHeaders = ['content-type', 'location', 'etag', 'link', 'cache-control']

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: this POST refuses an Idempotency-Key (its answer holds a secret that must not be stored). */
    idempotency?: boolean
  }
}

interface Claim { workspaceId: string, key: string, settled: boolean }
const claimOf = new WeakMap<FastifyRequest, Claim>()

const fingerprintOf = (request: FastifyRequest) =>
  createHash('sha256').update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`).digest('hex')

const isStream = (body: unknown) => typeof (body as { pipe?: unknown } | null)?.pipe === 'function'

/**
 * Idempotency-Key on every authenticated POST (draft-ietf-httpapi-idempotency-key-header): the
 * first answer is stored in the workspace's `idempotency_keys` row and replayed for a retry with
 * the same key and body (`Idempotent-Replayed: true`); the same key while the first request runs
 * is a 409, with another body a 422. The primary key (workspace, key) makes a claim hold across
 * processes. Keys expire after 24 h; expired rows are swept per workspace as new keys come in.
 * GraphQL mutations get the same through the header, since /graphql is a POST route like any other.
 * Imports stream their body and keep their own key handling (a retried upload returns the first job).
 */
async function idempotencyPlugin (app: FastifyInstance, { db, clock = systemClock }: { db: Db, clock?: Clock }) {
  const lastSweep = new Map<string, number>()

  async function sweep (workspaceId: string, now: Date) {
    const last = lastSweep.get(workspaceId) ?? 0
    if (now.getTime() - last < 60_000) return
    lastSweep.set(workspaceId, now.getTime())
    await inWorkspace(db, workspaceId, (tx) =>
      tx.delete(idempotencyKeys).where(and(eq(idempotencyKeys.workspaceId, workspaceId), lt(idempotencyKeys.expiresAt, now))))
  }

  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers['idempotency-key']
    if (request.method !== 'POST' || header === undefined || !request.ctx || isStream(request.body)) return
    const pointer = '/headers/idempotency-key'
    if (request.routeOptions.config.idempotency === false) {
      throw validationError([{ pointer, message: 'This route takes no Idempotency-Key: its answer holds a secret that Rapport does not keep', code: 'not_accepted' }])
    }
    if (typeof header !== 'string' || !keyShape.test(header)) {
      throw validationError([{ pointer, message: 'Must be 1 to 255 visible ASCII characters', code: 'invalid_string' }])
    }
    const { workspaceId } = request.ctx
    const fingerprint = fingerprintOf(request)
    const now = clock.now()
    const claimed = await inWorkspace(db, workspaceId, async (tx) => {
      // One statement decides: a new key, an expired one, or an abandoned claim of the same request
      // is taken; anything else is left alone and read below.
      const [row] = await tx.insert(idempotencyKeys).values({
        workspaceId, key: header, fingerprint, status: 'running', lockedAt: now, expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS)
      }).onConflictDoUpdate({
        target: [idempotencyKeys.workspaceId, idempotencyKeys.key],
        set: { fingerprint, status: 'running', responseStatus: null, responseHeaders: null, responseBody: null, lockedAt: now, expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS) },
        // Raw SQL parameters: ISO strings, since postgres.js is not handed Dates outside typed columns.
        setWhere: sql`${idempotencyKeys.expiresAt} <= ${now.toISOString()}::timestamptz or (${idempotencyKeys.status} = 'running' and ${idempotencyKeys.lockedAt} < ${new Date(now.getTime() - IDEMPOTENCY_LEASE_MS).toISOString()}::timestamptz and ${idempotencyKeys.fingerprint} = ${fingerprint})`
      }).returning({ key: idempotencyKeys.key })
      if (row) return null
      const [existing] = await tx.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.workspaceId, workspaceId), eq(idempotencyKeys.key, header)))
      return existing
    })
    if (claimed === null) {
      claimOf.set(request, { workspaceId, key: header, settled: false })
      await sweep(workspaceId, now)
      return
    }
    if (claimed.fingerprint !== fingerprint) throw new DomainError('idempotency.key_reused', 'This Idempotency-Key was first used with another method, path or body', { idempotencyKey: header })
    if (claimed.status === 'running') throw new DomainError('idempotency.in_progress', 'The first request with this Idempotency-Key is still running; retry later', { idempotencyKey: header })
    return replay(reply, claimed)
  }

  function replay (reply: FastifyReply, row: typeof idempotencyKeys.$inferSelect) {
    reply.code(row.responseStatus ?? 200)
    for (const [name, value] of Object.entries(row.responseHeaders ?? {})) reply.header(name, value)
    return reply.header('idempotent-replayed', 'true').send(row.responseBody ?? '')
  }

  async function release (claim: Claim) {
    claim.settled = true
    await inWorkspace(db, claim.workspaceId, (tx) =>
      tx.delete(idempotencyKeys).where(and(eq(idempotencyKeys.workspaceId, claim.workspaceId), eq(idempotencyKeys.key, claim.key), eq(idempotencyKeys.status, 'running'))))
  }

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = claimOf.get(request)
    if (!claim || claim.settled) return payload
    // A server error is not an answer worth keeping: the client may retry with the same key. An
    // answer marked no-store (it holds a one-time secret) must not be written down here either.
    const noStore = /no-store/i.test(String(reply.getHeader('cache-control') ?? ''))
    if (reply.statusCode >= 500 || noStore || !(typeof payload === 'string' || Buffer.isBuffer(payload) || payload === null || payload === undefined)) {
      await release(claim)
      return payload
    }
    const headers: Record<string, string> = {}
    for (const name of replayedHeaders) {
      const value = reply.getHeader(name)
      if (value !== undefined) headers[name] = String(value)
    }
    claim.settled = true
    await inWorkspace(db, claim.workspaceId, (tx) =>
      tx.update(idempotencyKeys)
        .set({ status: 'done', responseStatus: reply.statusCode, responseHeaders: headers, responseBody: payload === null || payload === undefined ? '' : payload.toString() })
        .where(and(eq(idempotencyKeys.workspaceId, claim.workspaceId), eq(idempotencyKeys.key, claim.key))))
    return payload
  }

  // The answer never got to onSend (an aborted request): free the key for a retry.
  const onResponse = async (request: FastifyRequest) => {
    const claim = claimOf.get(request)
    if (claim && !claim.settled) await release(claim)
  }

  // Only POST takes an Idempotency-Key: the other routes never run these.
  addRouteHooks(app, takesPost, { preHandler, onSend, onResponse })
}

export default fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['auth'] })
