import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GraphQLError } from 'graphql'
import mercurius, { type IResolvers } from 'mercurius'
import type { Db } from '../db/client.js'
import type { RequestContext, Scope } from '../lib/context.js'
import { DomainError } from '../lib/errors.js'
import type { LoggedEvent } from '../modules/events/events.log.js'
import { createEventRelay } from '../modules/events/events.relay.js'
import { requireScope } from '../lib/context.js'
import { authenticate, type AuthDeps } from '../plugins/auth.js'
import type { Services } from '../services.js'
import type { GraphQLContext } from './context.js'
import { enumIn } from './enums.js'
import type { MergeDto } from '../modules/contacts/merges.service.js'

const mergeOut = (m: MergeDto) => ({ ...m, movedIdentityIds: m.moved.identities, movedInteractionIds: m.moved.interactions })

// GraphQL subscriptions over WebSocket (graphql-transport-ws, and mercurius' legacy graphql-ws):
// each process relays committed events from the event log (read every GRAPHQL_SUBSCRIPTION_POLL_MS, see events.relay.ts)
// to its own subscribers, one topic per workspace, so a stream never carries another
// workspace's events; each field then filters by its arguments and checks the token's scopes.
// (withFilter is a property of mercurius' CommonJS default export, not a named ESM export.)

const TOPIC_PREFIX = 'events:'
const topicOf = (workspaceId: string) => TOPIC_PREFIX + workspaceId

type Queue = { push: (v: unknown) => void, destroyed?: boolean, readableEnded?: boolean, close?: Array<() => void> }

/**
 * mercurius' pubsub contract, in process, counting subscribers per workspace so that the relay
 * reads a transaction's events only where someone listens.
 */
class WorkspacePubSub {
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>()
  /** The relay's follow(): a subscription starts once the relay reads its workspace. */
  follow?: (workspaceId: string) => Promise<void>

  async subscribe (topic: string, queue: Queue): Promise<void> {
    const listener = (payload: unknown) => { if (!queue.destroyed && !queue.readableEnded) queue.push(payload) }
    const set = this.listeners.get(topic) ?? new Set()
    set.add(listener)
    this.listeners.set(topic, set)
    queue.close ??= []
    queue.close.push(() => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(topic)
    })
    await this.follow?.(topic.slice(TOPIC_PREFIX.length))
  }

  publish (event: { topic: string, payload: unknown }, callback?: (err?: Error) => void): void {
    for (const listener of this.listeners.get(event.topic) ?? []) listener(event.payload)
    callback?.()
  }

  /** The workspaces that have subscribers in this process. */
  workspaces (): string[] { return [...this.listeners.keys()].map((topic) => topic.slice(TOPIC_PREFIX.length)) }
}

/** The bearer token of a connection_init payload: `{ authorization: 'Bearer …' }`, `{ token }` or `{ headers: { authorization } }`. */
function bearerOf (payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined
  const p = payload as Record<string, unknown>
  const headers = (p.headers && typeof p.headers === 'object' ? p.headers : {}) as Record<string, unknown>
  const value = p.authorization ?? p.Authorization ?? headers.authorization ?? headers.Authorization ?? (typeof p.token === 'string' ? `Bearer ${p.token}` : undefined)
  return typeof value === 'string' ? value : undefined
}

/** mercurius' `subscription` option: connection_init must carry a token the REST API would accept. */
export function subscriptionOptions (app: FastifyInstance, deps: AuthDeps & { services: Services, pubsub: WorkspacePubSub }) {
  return {
    pubsub: deps.pubsub,
    // A method, not an arrow: mercurius calls it on the connection, whose context holds the upgrade request.
    async onConnect (this: { context?: { request?: FastifyRequest } } | undefined, data: { payload?: unknown }): Promise<false | GraphQLContext> {
      const upgrade = this?.context?.request
      const authorization = bearerOf(data.payload)
      // The same checks as a REST request (JWT or API key, workspace, revocation) on a request-like object.
      const check = async () => {
        if (!authorization) throw new DomainError('auth.unauthenticated', 'Missing bearer token')
        return authenticate({ headers: { authorization }, log: app.log, server: app } as unknown as FastifyRequest, deps)
      }
      try {
        // Under the failed-authentication pause (src/plugins/rate-limit.ts): a paused address's token
        // is not looked at, a refused one counts against the address as a 401 would, and checks
        // sent in parallel wait for their turn as HTTP requests do.
        const ctx = upgrade ? await app.guardAuthentication(upgrade, check) : await check()
        return { ctx, services: deps.services }
      } catch {
        return false
      }
    },
    keepAlive: 30_000
  }
}

const interactionTypes = { interactionReceived: ['interaction.received'], interactionUpdated: ['interaction.updated'], interactionStatusChanged: ['interaction.status_changed'] }

interface Change { id: string, type: string, occurredAt: string }
const change = (e: LoggedEvent): Change => ({ id: e.id, type: e.type, occurredAt: e.occurredAt })

/** A field's stream: the workspace's events of some types, filtered by the field's arguments. */
function stream (scope: Scope, types: string[], matches: (e: LoggedEvent, args: Record<string, any>) => boolean) {
  return mercurius.withFilter(
    async (_root: unknown, _args: Record<string, any>, context: { pubsub: { subscribe: (topic: string) => Promise<AsyncIterable<unknown>> }, ctx: RequestContext }) => {
      try {
        requireScope(context.ctx, scope)
      } catch (err) {
        // A subscribe-time error skips the errorFormatter: carry the REST code the same way here.
        if (err instanceof DomainError) throw new GraphQLError(err.message, { extensions: { code: err.code, ...err.details } })
        throw err
      }
      return context.pubsub.subscribe(topicOf(context.ctx.workspaceId))
    },
    (e: LoggedEvent, args: Record<string, any>) => types.includes(e.type) && matches(e, args)
  )
}

const byContactAndChannel = (e: LoggedEvent, args: Record<string, any>) =>
  (!args.contactId || e.data.contactId === args.contactId) && (!args.channelId || e.data.channelId === args.channelId)

export const subscriptionResolvers = {
  Subscription: {
    interactionReceived: {
      subscribe: stream('interactions:read', interactionTypes.interactionReceived, byContactAndChannel),
      resolve: (e: LoggedEvent) => ({ ...change(e), interaction: e.data })
    },
    interactionUpdated: {
      subscribe: stream('interactions:read', interactionTypes.interactionUpdated, byContactAndChannel),
      resolve: (e: LoggedEvent) => ({ ...change(e), interaction: e.data })
    },
    interactionStatusChanged: {
      subscribe: stream('interactions:read', interactionTypes.interactionStatusChanged, byContactAndChannel),
      resolve: (e: LoggedEvent) => ({ ...change(e), interaction: e.data })
    },
    promiseChanged: {
      subscribe: stream('promises:read', ['promise.made', 'promise.at_risk', 'promise.renegotiated', 'promise.kept', 'promise.broken', 'promise.cancelled'],
        (e, args) => (!args.status || e.data.status === enumIn(args.status)) && (!args.contactId || e.data.contactId === args.contactId)),
      resolve: (e: LoggedEvent) => ({ ...change(e), promise: e.data })
    },
    contactChanged: {
      subscribe: stream('contacts:read', ['contact.created', 'contact.updated', 'contact.deleted', 'contact.merged'],
        (e, args) => !args.contactId || e.subjectId === args.contactId || (e.type === 'contact.merged' && e.data.mergedId === args.contactId)),
      resolve: (e: LoggedEvent) => ({
        ...change(e),
        contactId: e.subjectId,
        contact: e.type === 'contact.merged' ? null : e.data,
        merge: e.type === 'contact.merged' ? mergeOut(e.data as unknown as MergeDto) : null
      })
    }
  }
} as unknown as IResolvers

/**
 * Subscriptions for the graphql plugin: the pubsub, mercurius' options, and the relay from the
 * event log, started when the app is ready and stopped on close (before the database closes).
 */
export function setupSubscriptions (app: FastifyInstance, deps: AuthDeps & { db: Db, services: Services, pollMs?: number }) {
  const pubsub = new WorkspacePubSub()
  const relay = createEventRelay({
    db: deps.db,
    log: app.log,
    pollMs: deps.pollMs,
    workspaces: () => pubsub.workspaces(),
    deliver: (events) => { for (const e of events) pubsub.publish({ topic: topicOf(e.workspaceId), payload: e }) }
  })
  pubsub.follow = (workspaceId) => relay.follow(workspaceId)
  app.addHook('onReady', async () => relay.start())
  app.addHook('onClose', async () => relay.stop())
  return { options: subscriptionOptions(app, { ...deps, pubsub }), resolvers: subscriptionResolvers }
}
