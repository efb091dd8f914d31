import { isIPv6 } from 'node:net'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { DomainError } from '../lib/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Counts a failed authentication that gets no 401 answer (a refused connection_init); absent when the pause is off. */
    countFailedAuthentication?: (request: FastifyRequest) => Promise<void>
  }
}

/** Probes of load balancers and orchestrators are never throttled. */
const unlimitedRoutes = new Set(['/healthz', '/readyz'])

/**
 * The client a request counts against: an IPv4 address (also when IPv4-mapped), or an IPv6
 * address's /64, which a single host or customer commonly holds whole (RFC 6177): counting single
 * IPv6 addresses would let a client step round the limits by changing its address.
 */
export function clientOf (ip: string): string {
  if (!isIPv6(ip)) return ip
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined]
  const groupsOf = (part: string | undefined) => (part ? part.split(':') : []).flatMap((g) => {
    if (!g.includes('.')) return [g]
    const [a, b, c, d] = g.split('.').map(Number)
    return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
  })
  const left = groupsOf(head)
  const right = groupsOf(tail)
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const words = groups.map((g) => parseInt(g, 16))
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return [words[6] >> 8, words[6] & 255, words[7] >> 8, words[7] & 255].join('.')
  return `${words.slice(0, 4).map((w) => w.toString(16)).join(':')}::/64`
}

// Per API key or token subject once auth has run (route-level onRequest hooks run after the auth
// plugin's global one); per client IP on public routes (token exchange, provider webhooks, docs).
function limitKey (request: FastifyRequest): string {
  return request.ctx ? `sub:${request.ctx.workspaceId}:${request.ctx.actor}` : `ip:${clientOf(request.ip)}`
}

/**
 * Provider webhooks: authenticated by each channel's own signature, and sent from the provider's
 * shared addresses for every workspace. Their 401s are not credential guesses (one workspace's stale
 * secret would otherwise pause the provider for all of them), and they are never paused.
 */
const providerRoutes = new Set(['/v1/channels/:id/inbound'])
const outsideAuthPause = (request: FastifyRequest) => {
  const url = request.routeOptions.url ?? ''
  return unlimitedRoutes.has(url) || providerRoutes.has(url)
}

/** A client IP that failed authentication this often is paused, whatever it sends next. */
// Bound of the per-process list of recently failing IPs (a spray of addresses cannot grow it).
const MAX_SUSPECTS = 50_000
const authFailureKey = (request: FastifyRequest) => `authfail:${clientOf(request.ip)}`

/**
 * Guessing tokens or API keys: every 401 answer counts against the client IP, and an IP past
 * `authFailuresMax` in the window gets 429 before its credentials are even looked at. Checked before
 * authentication on purpose: if a correct guess still went through while wrong ones got 429, the
 * pause would tell the guesser which one was right. Successful requests never count.
 */
function pauseRepeatedAuthFailures (app: FastifyInstance, max: number, windowMs: number) {
  // In memory, as many counts as suspects (the store's default 5,000 let a spray of failures push a paused address out).
  // (`cache` reaches the child store at run time; the plugin's types leave it out.)
  const failures = app.createRateLimit({ max, keyGenerator: authFailureKey, cache: MAX_SUSPECTS } as Parameters<FastifyInstance['createRateLimit']>[0])
  // IPs this process saw fail within the window: only their requests read the shared count, so a
  // client that never fails costs no store read (with Redis, a round trip). Across processes the
  // bound stays: an IP's first failure on a process makes that process check it from then on.
  const suspects = new Map<string, number>()
  const suspect = (ip: string) => {
    const until = suspects.get(ip)
    if (until === undefined) return false
    if (until > Date.now()) return true
    suspects.delete(ip)
    return false
  }
  app.addHook('onRequest', async (request, reply) => {
    if (!suspect(clientOf(request.ip)) || outsideAuthPause(request)) return
    const state = await failures(request, { increment: false })
    if (state.isAllowed || state.remaining > 0) return
    reply.header('retry-after', state.ttlInSeconds)
    throw new DomainError('request.rate_limited', `Too many failed authentications from this address; retry in ${state.ttlInSeconds} s`, { retryAfterSeconds: state.ttlInSeconds })
  })
  const countFailure = async (request: FastifyRequest) => {
    const client = clientOf(request.ip)
    suspects.delete(client) // re-inserted last: the oldest entries go first when the map is full
    suspects.set(client, Date.now() + windowMs)
    if (suspects.size > MAX_SUSPECTS) suspects.delete(suspects.keys().next().value!)
    await failures(request)
  }
  // A subscription's token arrives in connection_init, after the upgrade's answer (no 401 to see).
  app.decorate('countFailedAuthentication', countFailure)
  // Counted before the answer leaves (not onResponse): the client's next request sees it.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 401 || outsideAuthPause(request)) return payload
    await countFailure(request)
    return payload
  })
}

/**
 * Rate limits with @fastify/rate-limit: in memory, or in Redis when REDIS_URL is set so that every
 * server process counts against the same budget. Besides the plugin's X-RateLimit-* headers, each
 * answer carries the IETF draft's structured `RateLimit` and `RateLimit-Policy` fields
 * (draft-ietf-httpapi-ratelimit-headers: policy "default", q = quota, w = window in seconds,
 * r = remaining, t = seconds until the window resets).
 * Registered before the auth plugin: its own onRequest hook (the failed-authentication pause) runs
 * before authentication; the per-subject limit is a route-level hook, which runs after it.
 */
async function rateLimitPlugin (app: FastifyInstance, { config }: { config: Pick<Config, 'rateLimit' | 'redisUrl'> }) {
  const { max, windowMs, namespace, authFailuresMax = 0 } = config.rateLimit
  if (max === 0 && authFailuresMax === 0) return
  let redis: Redis | undefined
  if (config.redisUrl) {
    // Fail fast rather than queue: a slow Redis must not hold requests (skipOnError lets them through).
    redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false })
    await redis.connect()
    app.addHook('onClose', async () => { await redis?.quit() })
  }
  await app.register(rateLimit, {
    global: max > 0,
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
  if (authFailuresMax > 0) pauseRepeatedAuthFailures(app, authFailuresMax, windowMs)
  if (max === 0) return
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

export default fp(rateLimitPlugin, { name: 'rate-limit' })
