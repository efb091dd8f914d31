import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { DomainError } from '../lib/errors.js'

/** Probes of load balancers and orchestrators are never throttled. */
const unlimitedRoutes = new Set(['/healthz', '/readyz'])

// Per API key or token subject once auth has run (route-level onRequest hooks run after the auth
// plugin's global one); per client IP on public routes (token exchange, provider webhooks, docs).
function limitKey (request: FastifyRequest): string {
  return request.ctx ? `sub:${request.ctx.workspaceId}:${request.ctx.actor}` : `ip:${request.ip}`
}

/**
 * Rate limits with @fastify/rate-limit: in memory, or in Redis when REDIS_URL is set so that every
 * server process counts against the same budget. Besides the plugin's X-RateLimit-* headers, each
 * answer carries the IETF draft's structured `RateLimit` and `RateLimit-Policy` fields
 * (draft-ietf-httpapi-ratelimit-headers: policy "default", q = quota, w = window in seconds,
 * r = remaining, t = seconds until the window resets).
 */
async function rateLimitPlugin (app: FastifyInstance, { config }: { config: Pick<Config, 'rateLimit' | 'redisUrl'> }) {
  const { max, windowMs, namespace } = config.rateLimit
  if (max === 0) return
  let redis: Redis | undefined
  if (config.redisUrl) {
    // Fail fast rather than queue: a slow Redis must not hold requests (skipOnError lets them through).
    redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false })
    await redis.connect()
    app.addHook('onClose', async () => { await redis?.quit() })
  }
  await app.register(rateLimit, {
    global: true,
    max,
    timeWindow: windowMs,
    redis,
    nameSpace: `${namespace ?? 'rapport'}:ratelimit:`,
    // A broken store lets requests through (logged) instead of failing the whole API.
    skipOnError: true,
    keyGenerator: limitKey,
    allowList: (request) => unlimitedRoutes.has(request.routeOptions.url ?? ''),
    errorResponseBuilder: (_request, context) =>
      new DomainError('request.rate_limited', `Rate limit of ${context.max} requests exceeded; retry in ${context.after}`, { retryAfterSeconds: Math.ceil(context.ttl / 1000) })
  })
  const windowS = Math.ceil(windowMs / 1000)
  app.addHook('onSend', async (_request, reply, payload) => {
    const remaining = reply.getHeader('x-ratelimit-remaining')
    const reset = reply.getHeader('x-ratelimit-reset')
    if (remaining !== undefined && reset !== undefined) {
      reply.header('ratelimit-policy', `"default";q=${max};w=${windowS}`)
      reply.header('ratelimit', `"default";r=${String(remaining)};t=${String(reset)}`)
    }
    return payload
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['auth'] })
