import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { requireScope, type RequestContext, type Scope } from '../lib/context.js'
import { DomainError } from '../lib/errors.js'
import { API_KEY_PREFIX, type ApiKeysService } from '../modules/api-keys/api-keys.service.js'
import type { WorkspacesService } from '../modules/workspaces/workspaces.service.js'

export const TOKEN_ISSUER = 'rapport'
export const TOKEN_AUDIENCE = 'rapport-api'

/** Claims Rapport puts in its bearer tokens (`scope` is space-separated, RFC 8693 style). */
export interface TokenClaims {
  sub: string
  wid: string
  scope: string
  /** The API key a token was exchanged for (POST /v1/auth/token): revoking the key ends the token. */
  akid?: string
}

// RFC 8725: one pinned algorithm, a required expiry, and our own issuer and audience only.
export function jwtOptions (config: Pick<Config, 'jwtSecret'>): FastifyJWTOptions {
  return {
    secret: config.jwtSecret,
    sign: { algorithm: 'HS256', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, expiresIn: '1h' },
    // The verified-token cache (fast-jwt, bounded LRU) spares the HMAC and JSON parsing of a token
    // seen before; a cached token still expires at its exp (fast-jwt >= 6.3.4 also without iat).
    verify: { algorithms: ['HS256'], allowedIss: TOKEN_ISSUER, allowedAud: TOKEN_AUDIENCE, requiredClaims: ['exp', 'sub', 'wid'], cache: true }
  }
}

declare module 'fastify' {
  interface FastifyRequest { ctx: RequestContext }
  interface FastifyContextConfig {
    /** Route needs no token (health, docs, provider webhooks that carry their own signature). */
    public?: boolean
    /** Scope the token must carry for this route. */
    scope?: Scope
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT { payload: TokenClaims, user: TokenClaims }
}


const workspaceIdShape = /^[a-z0-9][a-z0-9-]{0,62}$/

export interface AuthDeps { workspaces: WorkspacesService, apiKeys: ApiKeysService }

const bearerKey = new RegExp(`^Bearer\\s+(${API_KEY_PREFIX}\\S+)\\s*$`, 'i')
const bearerToken = /^Bearer\s+(\S+)\s*$/i

/**
 * An API key used directly as the bearer token. It is looked up on every request (one indexed
 * read, no cache), so a revoked or expired key fails at once, in every server process.
 */
async function authenticateKey (request: FastifyRequest, secret: string, apiKeys: ApiKeysService): Promise<RequestContext> {
  const principal = await apiKeys.authenticate(secret)
  if (!principal) throw new DomainError('auth.unauthenticated', 'The API key is invalid, revoked or expired')
  return { workspaceId: principal.workspaceId, actor: `apikey:${principal.keyId}`, scopes: new Set(principal.scopes), log: request.log }
}

export async function authenticate (request: FastifyRequest, { workspaces, apiKeys }: AuthDeps): Promise<RequestContext> {
  if (!request.headers.authorization) throw new DomainError('auth.unauthenticated', 'Missing bearer token')
  const key = bearerKey.exec(request.headers.authorization)?.[1]
  if (key) return authenticateKey(request, key, apiKeys)
  const token = bearerToken.exec(request.headers.authorization)?.[1]
  if (!token) throw new DomainError('auth.unauthenticated', 'The Authorization header must be "Bearer <token>"')
  let claims: TokenClaims
  try {
    // The instance's verifier, with the options above (and its cache), called directly:
    // request.jwtVerify() decodes the token a second time and runs a callback waterfall around it
    // for features Rapport does not use (cookies, per-request secrets, trusted checks).
    claims = request.server.jwt.verify<TokenClaims>(token)
  } catch {
    throw new DomainError('auth.unauthenticated', 'The bearer token is invalid or expired')
  }
  if (typeof claims.wid !== 'string' || !workspaceIdShape.test(claims.wid)) throw new DomainError('auth.unauthenticated', 'The token names no valid workspace')
  if (claims.akid !== undefined && !(typeof claims.akid === 'string' && await apiKeys.isUsable(claims.akid, claims.wid))) {
    throw new DomainError('auth.unauthenticated', 'The API key this token was exchanged for is revoked or expired')
  }
  const ctx: RequestContext = {
    workspaceId: claims.wid,
    actor: String(claims.sub),
    scopes: new Set(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []),
    log: request.log
  }
  await workspaces.ensure(ctx)
  return ctx
}

/**
 * A GraphQL WebSocket upgrade carries its token in connection_init (browsers cannot set headers on
 * it): src/graphql/subscriptions.ts authenticates it there, with authenticate(). Only that route:
 * an upgrade to any other route is closed by @fastify/websocket, never handled.
 */
export const authenticatesInConnectionInit = (request: FastifyRequest) =>
  (request as { ws?: boolean }).ws === true && request.routeOptions.url === '/graphql'

async function authPlugin (app: FastifyInstance, opts: { config: Config } & AuthDeps) {
  await app.register(fastifyJwt, jwtOptions(opts.config))
  app.decorateRequest('ctx', null as unknown as RequestContext)
  app.addHook('onRequest', async (request) => {
    const routeConfig = request.routeOptions.config
    if (routeConfig.public || request.is404) return
    if (authenticatesInConnectionInit(request)) return
    // Under the failed-authentication pause's guard (src/plugins/rate-limit.ts).
    request.ctx = await app.guardAuthentication(request, () => authenticate(request, opts))
    if (routeConfig.scope) requireScope(request.ctx, routeConfig.scope)
  })
}

export default fp(authPlugin, { name: 'auth' })
