import Fastify, { type FastifyServerOptions } from 'fastify'
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import type { Db } from './db/client.js'
import graphql from './graphql/index.js'
import { systemClock, type Clock } from './lib/clock.js'
import { createDatabaseClock } from './db/database-clock.js'
import { isServerDatabase } from './db/tenant.js'
import { eventsRoutes } from './modules/events/events.routes.js'
import { contactsRoutes } from './modules/contacts/contacts.routes.js'
import { healthRoutes } from './modules/health/health.routes.js'
import websocket from '@fastify/websocket'
import auth from './plugins/auth.js'
import openapi from './plugins/openapi.js'
import problem, { sendProblem, toDomainError } from './plugins/problem.js'
import underPressure from './plugins/under-pressure.js'
import idempotency from './plugins/idempotency.js'
import rateLimit from './plugins/rate-limit.js'
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.js'
import { authTokenRoutes } from './modules/api-keys/auth-token.routes.js'
import { fastSerializerCompiler } from './plugins/serializer.js'
import { createJobs } from './jobs/index.js'
import { channelsRoutes } from './modules/channels/channels.routes.js'
import { mergesRoutes } from './modules/contacts/merges.routes.js'
import { identitiesRoutes } from './modules/identities/identities.routes.js'
import { importsRoutes } from './modules/imports/imports.routes.js'
import { inboundRoutes } from './modules/interactions/inbound.routes.js'
import { interactionsRoutes } from './modules/interactions/interactions.routes.js'
import { promisesRoutes } from './modules/promises/promises.routes.js'
import { suggestionsRoutes } from './modules/promises/suggestions.routes.js'
import { workspacesRoutes } from './modules/workspaces/workspaces.routes.js'
import { relationshipsRoutes } from './modules/relationships/relationships.routes.js'
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js'
import { createServices } from './services.js'
import { errorForLog } from './lib/log-errors.js'

export interface AppOptions {
  config: Config
  db: Db
  clock?: Clock
  logger?: FastifyServerOptions['logger']
  /** Outbound HTTP used by channel adapters; defaults to the global fetch. */
  fetch?: typeof fetch
}

const publicPrefixes = ['/docs', '/graphiql']

// Query parameters that may carry a credential (Meta's hub.verify_token, X's crc_token, ...).
const secretQueryParam = /token|secret|signature|password|passwd|key|auth|code/i

/** A request URL fit for the log: the value of any credential-looking query parameter is replaced. */
export function urlForLog (url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const params = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    let decoded = name
    try { decoded = decodeURIComponent(name) } catch {}
    return eq >= 0 && secretQueryParam.test(decoded) ? `${name}=[REDACTED]` : pair
  })
  return url.slice(0, q + 1) + params.join('&')
}

/**
 * Production logger settings; a caller's `logger` options (level, stream...) apply on top of
 * them, so a test capturing the log sees what production would write. `false` turns logging off.
 */
function loggerOptions (config: Config, logger: AppOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false) return false
  const own = typeof logger === 'object' && logger !== null ? logger : {}
  return {
    level: config.logLevel,
    redact: ['req.headers.authorization'],
    ...own,
    serializers: {
      req: (request: { method: string, url: string, host?: string, ip?: string, socket?: { remotePort?: number } }) => ({
        method: request.method, url: urlForLog(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort
      }),
      err: errorForLog,
      ...(own as { serializers?: Record<string, unknown> }).serializers
    }
  } as FastifyServerOptions['logger']
}

/** Builds the whole API in one visible order. It never listens: server.ts and tests decide that. */
/** Trust the first `hops` proxies in front of the server (proxy-addr's function form of a hop count). */
const hopsTrusted = (hops: number) => (_address: string, hop: number) => hop < hops

export async function buildApp ({ config, db, clock: injectedClock, logger, fetch }: AppOptions) {
  const app = Fastify({
    logger: loggerOptions(config, logger),
    bodyLimit: config.bodyLimit,
    // Behind a load balancer every client would otherwise share its address, and so one budget.
    trustProxy: typeof config.trustProxy === 'number' ? hopsTrusted(config.trustProxy) : config.trustProxy ?? false,
    // A URL Fastify cannot decode (bad percent-encoding) gets a problem+json like any other 400.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, toDomainError(error)),
    // Ids travel in URLs; a 100-char cap keeps hostile paths cheap to refuse.
    routerOptions: { maxParamLength: 200 },
    ajv: { customOptions: { removeAdditional: false } }
  }).withTypeProvider<ZodTypeProvider>()

  app.addHook('onRoute', (route) => {
    if (publicPrefixes.some((p) => route.url.startsWith(p))) {
      route.config = { ...route.config, public: true }
      route.schema = { ...route.schema, hide: true }
    }
  })

  // Unless a test injects one, time is the database server's, carried by this host's clock
  // (database-clock.ts); PGlite runs in this process and reads this host's clock itself.
  const databaseClock = injectedClock || !isServerDatabase(db) ? undefined : createDatabaseClock(db, { onError: (err) => app.log.warn({ err: errorForLog(err as Error) }, 'could not read the database clock; keeping the last offset') })
  const clock: Clock = injectedClock ?? databaseClock ?? systemClock
  const kick = { inbox: () => jobs.inbox.kick(), outbox: () => jobs.outbox.kick(), imports: () => jobs.imports.kick() }
  const services = createServices({ db, clock, secretsKey: config.secretsKey, promiseRiskWindowMs: config.promiseRiskWindowMs, imports: config.imports, inbox: config.inbox, fetch, kick,
    webhookUrls: config.webhooks, kickWebhooks: () => jobs.webhookDelivery.kick() })
  const jobs = createJobs({ config, db, clock, services, log: app.log, fetch })
  app.decorate('jobs', jobs)
  app.addHook('onReady', async () => {
    // Before the workers: the scheduler and leases read the clock from their first tick.
    await databaseClock?.start()
    await jobs.start()
  })
  // Workers stop before the database closes; an unfinished claim is retried after its lease.
  app.addHook('onClose', async () => {
    await jobs.stop()
    databaseClock?.stop()
  })

  await app.register(problem)
  await app.register(underPressure, { maxInFlight: config.maxInFlight })
  // Before auth: it marks WebSocket upgrades (request.ws), which authenticate in connection_init instead.
  await app.register(websocket, { options: { maxPayload: 1_048_576 } })
  // Rate limits first: the failed-authentication pause must run before the auth hook.
  await app.register(rateLimit, { config })
  await app.register(auth, { config, workspaces: services.workspaces, apiKeys: services.apiKeys })
  await app.register(idempotency, { db, clock })
  await app.register(openapi)
  // REST validates and serializes with zod; mercurius keeps Fastify's own JSON-schema compilers.
  await app.register(async (rest) => {
    rest.setValidatorCompiler(validatorCompiler)
    rest.setSerializerCompiler(fastSerializerCompiler)
    await rest.register(healthRoutes, { db })
    await rest.register(contactsRoutes, { contacts: services.contacts })
    await rest.register(identitiesRoutes, { identities: services.identities })
    await rest.register(mergesRoutes, { merges: services.merges })
    await rest.register(channelsRoutes, { channels: services.channels })
    await rest.register(interactionsRoutes, { interactions: services.interactions })
    await rest.register(promisesRoutes, { promises: services.promises })
    await rest.register(relationshipsRoutes, { relationships: services.relationships })
    await rest.register(suggestionsRoutes, { suggestions: services.suggestions })
    await rest.register(workspacesRoutes, { workspaces: services.workspaces })
    await rest.register(apiKeysRoutes, { apiKeys: services.apiKeys })
    await rest.register(authTokenRoutes, { apiKeys: services.apiKeys })
    await rest.register(importsRoutes, { imports: services.imports })
    await rest.register(eventsRoutes, { events: services.events })
    await rest.register(webhooksRoutes, { webhooks: services.webhooks })
    await rest.register(inboundRoutes, { inbound: services.inbound, publicUrl: config.publicUrl })
  })
  await app.register(graphql, { services, db, graphiql: config.graphiql, limits: config.graphql })

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>

declare module 'fastify' {
  interface FastifyInstance { jobs: import('./jobs/index.js').Jobs }
}
