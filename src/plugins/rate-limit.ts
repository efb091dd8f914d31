import { isIPv6 } from 'node:net'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { DomainError } from '../lib/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Runs a credential check (the auth hook's, the token exchange's, a subscription's
     * connection_init) under the failed-authentication pause's rules: it waits for its turn among
     * the address's checks under way, is not run at all for a paused address (throws the 429
     * DomainError), and counts as a failure when `check` throws a 401. With the pause off, it just
     * runs `check`.
     */
    guardAuthentication: <T>(request: FastifyRequest, check: () => Promise<T>) => Promise<T>
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

/** What this process knows of a client address that failed authentication. */
interface Suspect {
  /** Its requests read the shared count until then: a window after its latest failure here. */
  until: number
  /** Failures counted here in the current window (fixed, from the first one, as the store counts), */
  failed: number
  /** which ends then. */
  resetAt: number
}

/** An address's credential checks under way, and the requests waiting for a turn (woken with whether they got one). */
interface Turns { checking: number, waiting: Array<(turn: boolean) => void> }

/**
 * Guessing tokens or API keys: every 401 answer counts against the client IP, and an IP past
 * `authFailuresMax` in the window gets 429 before its credentials are even looked at. Checked before
 * authentication on purpose: if a correct guess still went through while wrong ones got 429, the
 * pause would tell the guesser which one was right. Successful requests never count.
 *
 * Guesses sent in parallel: an address's credential checks under way (each runs inside
 * `guardAuthentication`, until its outcome is known) plus its failures this process counted in the window are
 * at most `max`; a request beyond that waits for an earlier outcome, then is looked at again: a
 * success frees its turn, a failure keeps it (as a counted failure), and once the failures reach
 * `max` the waiting requests get the 429. A burst of right credentials only waits for the checks
 * ahead of it (microseconds for a token, a key read for an API key) and is never refused, and no
 * request reads the store for this unless its address failed here.
 */
function pauseRepeatedAuthFailures (app: FastifyInstance, max: number, windowMs: number) {
  // In memory, as many counts as suspects (the store's default 5,000 let a spray of failures push a paused address out).
  // (`cache` reaches the child store at run time; the plugin's types leave it out.)
  const failures = app.createRateLimit({ max, keyGenerator: authFailureKey, cache: MAX_SUSPECTS } as Parameters<FastifyInstance['createRateLimit']>[0])
  // IPs this process saw fail within the window: only their requests read the shared count, so a
  // client that never fails costs no store read (with Redis, a round trip). Across processes the
  // bound stays: an IP's first failure on a process makes that process check it from then on.
  const suspects = new Map<string, Suspect>()
  const suspect = (client: string) => {
    const known = suspects.get(client)
    if (known === undefined) return undefined
    if (known.until > Date.now()) return known
    suspects.delete(client)
    return undefined
  }
  const failuresOf = (client: string) => {
    const known = suspect(client)
    return known !== undefined && known.resetAt > Date.now() ? known.failed : 0
  }

  // Addresses with a credential check under way (an entry lives while one is: as many entries as
  // requests in flight at most, whatever the number of addresses).
  const turns = new Map<string, Turns>()
  /** True once the request holds a turn; false without one when this process counted `max` failures (the shared count decides). */
  const takeTurn = (client: string): boolean | Promise<boolean> => {
    const failed = failuresOf(client)
    if (failed >= max) return false
    const own = turns.get(client)
    if (own === undefined) {
      turns.set(client, { checking: 1, waiting: [] })
      return true
    }
    if (own.waiting.length === 0 && own.checking + failed < max) {
      own.checking++
      return true
    }
    return new Promise((resolve) => own.waiting.push(resolve))
  }
  // A request waits only behind a check under way (checking >= 1), so an ending turn always wakes it.
  const passTurns = (client: string, own: Turns) => {
    while (own.waiting.length > 0) {
      const failed = failuresOf(client)
      if (failed >= max) {
        for (const wake of own.waiting.splice(0)) wake(false)
        break
      }
      if (own.checking + failed >= max) break
      own.checking++
      own.waiting.shift()!(true)
    }
    if (own.checking === 0 && own.waiting.length === 0) turns.delete(client)
  }
  const endTurn = (client: string) => {
    const own = turns.get(client)
    if (own === undefined) return
    own.checking--
    passTurns(client, own)
  }
  /** The shared count's state if the address is paused. */
  const pausedState = async (request: FastifyRequest, client: string) => {
    const known = suspect(client)
    if (known === undefined) return undefined
    const state = await failures(request, { increment: false })
    if (state.isAllowed) return undefined
    if (state.remaining === 0) return state
    if (failuresOf(client) >= max) {
      // Not paused though this process counted `max` failures: the shared window they fell in has
      // ended (another process started it earlier), or the store does not answer (skipOnError).
      known.failed = max - state.remaining
      known.resetAt = Date.now() + state.ttl
      const own = turns.get(client)
      if (own !== undefined) passTurns(client, own)
    }
    return undefined
  }
  const pausedError = (state: { ttlInSeconds: number }) =>
    new DomainError('request.rate_limited', `Too many failed authentications from this address; retry in ${state.ttlInSeconds} s`, { retryAfterSeconds: state.ttlInSeconds })

  // A paused address gets its 429 whatever it asks for, before anything else runs. Only addresses
  // that failed here recently are looked up: one map read per request otherwise.
  app.addHook('onRequest', async (request, reply) => {
    if (suspects.size === 0 || outsideAuthPause(request)) return
    const state = await pausedState(request, clientOf(request.ip))
    if (state === undefined) return
    reply.header('retry-after', state.ttlInSeconds)
    throw pausedError(state)
  })

  const countFailure = async (request: FastifyRequest) => {
    const client = clientOf(request.ip)
    const now = Date.now()
    const known = suspect(client) ?? { until: 0, failed: 0, resetAt: 0 }
    if (known.resetAt <= now) {
      known.failed = 0
      known.resetAt = now + windowMs
    }
    known.failed++
    known.until = now + windowMs
    suspects.delete(client) // re-inserted last: the oldest entries go first when the map is full
    suspects.set(client, known)
    if (suspects.size > MAX_SUSPECTS) suspects.delete(suspects.keys().next().value!)
    // The turn ends after this (the caller's): a request woken by it reads a count that has it.
    const state = await failures(request)
    // What the store counted (with Redis, other processes' failures too), should a read that
    // overtook this failure have lowered the count here.
    const after = suspect(client)
    if (!state.isAllowed && after !== undefined && after.resetAt > Date.now()) after.failed = Math.max(after.failed, max - state.remaining)
  }
  // Failures the guard counted already; any other 401 is counted as its answer leaves.
  const counted = new WeakSet<FastifyRequest>()
  // Counted before the answer leaves (not onResponse): the client's next request sees it.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 401 && !counted.has(request) && !outsideAuthPause(request)) await countFailure(request)
    return payload
  })

  /**
   * Every credential check goes through here (the auth hook, the token exchange, a subscription's
   * connection_init): it takes a turn of the address (waiting for one if its checks under way and
   * its failures reach the max), re-checks the pause for an address that failed here, runs the
   * check, counts an authentication failure before the turn passes on, and ends the turn. A
   * request's whole cost on the common path: two map operations around the check.
   */
  app.decorate('guardAuthentication', async <T>(request: FastifyRequest, check: () => Promise<T>): Promise<T> => {
    const client = clientOf(request.ip)
    for (;;) {
      let turn = takeTurn(client)
      if (typeof turn !== 'boolean') turn = await turn
      let state: Awaited<ReturnType<typeof pausedState>>
      try {
        state = await pausedState(request, client)
      } catch (err) {
        if (turn) endTurn(client)
        throw err
      }
      if (state !== undefined) {
        if (turn) endTurn(client)
        throw pausedError(state)
      }
      // Without a turn and not paused: the failures this process knew of are past, ask again.
      if (!turn) continue
      try {
        return await check()
      } catch (err) {
        // Only a refused credential counts (not a database outage during a key lookup).
        if (err instanceof DomainError && err.status === 401) {
          counted.add(request)
          await countFailure(request)
        }
        throw err
      } finally {
        endTurn(client)
      }
    }
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
  // With the pause off, credential checks run as they are: callers call the guard either way.
  if (authFailuresMax === 0) app.decorate('guardAuthentication', <T>(_request: FastifyRequest, check: () => Promise<T>): Promise<T> => check())
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
