import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import type { RequestContext, Scope } from '../lib/context.js'
import { DomainError } from '../lib/errors.js'
import type { WorkspacesService } from '../modules/workspaces/workspaces.service.js'

export const TOKEN_ISSUER = 'rapport'
export const TOKEN_AUDIENCE = 'rapport-api'

/** Claims Rapport puts in its bearer tokens (`scope` is space-separated, RFC 8693 style). */
export interface TokenClaims { sub: string, wid: string, scope: string }

// RFC 8725: one pinned algorithm, a required expiry, and our own issuer and audience only.
export function jwtOptions (config: Pick<Config, 'jwtSecret'>): FastifyJWTOptions {
  return {
    secret: config.jwtSecret,
    sign: { algorithm: 'HS256', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, expiresIn: '1h' },
    verify: { algorithms: ['HS256'], allowedIss: TOKEN_ISSUER, allowedAud: TOKEN_AUDIENCE, requiredClaims: ['exp', 'sub', 'wid'] }
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

export function requireScope (ctx: RequestContext, scope: Scope): void {
  if (!ctx.scopes.has(scope)) throw new DomainError('auth.forbidden', `This token lacks the scope ${scope}`, { requiredScope: scope })
}

const workspaceIdShape = /^[a-z0-9][a-z0-9-]{0,62}$/

async function authenticate (request: FastifyRequest, workspaces: WorkspacesService): Promise<RequestContext> {
  if (!request.headers.authorization) throw new DomainError('auth.unauthenticated', 'Missing bearer token')
  let claims: TokenClaims
  try {
    claims = await request.jwtVerify<TokenClaims>()
  } catch {
    throw new DomainError('auth.unauthenticated', 'The bearer token is invalid or expired')
  }
  if (typeof claims.wid !== 'string' || !workspaceIdShape.test(claims.wid)) throw new DomainError('auth.unauthenticated', 'The token names no valid workspace')
  const ctx: RequestContext = {
    workspaceId: claims.wid,
    actor: String(claims.sub),
    scopes: new Set(typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : []),
    log: request.log
  }
  await workspaces.ensure(ctx)
  return ctx
}

async function authPlugin (app: FastifyInstance, opts: { config: Config, workspaces: WorkspacesService }) {
  await app.register(fastifyJwt, jwtOptions(opts.config))
  app.decorateRequest('ctx', null as unknown as RequestContext)
  app.addHook('onRequest', async (request) => {
    const routeConfig = request.routeOptions.config
    if (routeConfig.public || request.is404) return
    request.ctx = await authenticate(request, opts.workspaces)
    if (routeConfig.scope) requireScope(request.ctx, routeConfig.scope)
  })
}

export default fp(authPlugin, { name: 'auth' })
