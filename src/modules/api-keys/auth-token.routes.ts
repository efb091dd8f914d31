import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { errorResponses } from '../../lib/http-schemas.js'
import { DomainError } from '../../lib/errors.js'
import { OAuthError, TokenRequest, TokenResponse } from './api-keys.schemas.js'
import type { ApiKeysService } from './api-keys.service.js'

/** Lifetime of an exchanged token: short, so a leaked one is worth little. */
export const EXCHANGED_TOKEN_TTL_S = 900

type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope'

// RFC 6749 §5.2: errors are JSON objects with `error`, 400 except invalid_client (401, with a
// WWW-Authenticate challenge when the client tried HTTP Basic).
function oauthError (reply: FastifyReply, error: OAuthErrorCode, description: string, basic = false) {
  const status = error === 'invalid_client' ? 401 : 400
  if (status === 401) reply.header('www-authenticate', basic ? 'Basic realm="rapport"' : 'Bearer realm="rapport"')
  return reply.code(status).header('cache-control', 'no-store').send({ error, error_description: description })
}

function basicCredentials (header: string | undefined): { id: string, secret: string } | null {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (!m) return null
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic.
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) }
  } catch {
    return null
  }
}

export const authTokenRoutes: FastifyPluginAsyncZod<{ apiKeys: ApiKeysService }> = async (app, { apiKeys }) => {
  // OAuth clients send forms (RFC 6749 §4.4.2); this parser lives in this route's scope only,
  // so every other route still answers 415 to a form.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  app.post('/v1/auth/token', {
    config: { public: true },
    // Bad bodies answer in OAuth's error shape, not as problem+json: the handler reads the result.
    attachValidation: true,
    schema: {
      operationId: 'exchangeApiKey', tags: ['api-keys'],
      summary: 'Exchange an API key for a short-lived bearer token (OAuth 2 client credentials)',
      description: 'Send `grant_type=client_credentials` with the API key as `client_secret`, in the form or JSON body or as the HTTP Basic password. ' +
        'The token carries the key\'s scopes (or the narrower `scope` asked for) and stops working when the key is revoked.',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: TokenRequest,
      response: { 200: TokenResponse, 400: OAuthError, 401: OAuthError, ...errorResponses([413, 415, 429], { authenticated: false }) }
    }
  }, async (request, reply) => {
    if (request.validationError || typeof request.body !== 'object' || request.body === null) return oauthError(reply, 'invalid_request', 'The body must be a form or JSON object with grant_type')
    const body = request.body
    const basic = basicCredentials(request.headers.authorization)
    if (request.headers.authorization && !basic) return oauthError(reply, 'invalid_client', 'Only HTTP Basic client authentication is accepted here')
    if (basic && body.client_secret) return oauthError(reply, 'invalid_request', 'Send the client secret once: in HTTP Basic or in the body')
    if (body.grant_type !== 'client_credentials') return oauthError(reply, 'unsupported_grant_type', 'Only grant_type=client_credentials is supported')
    const secret = basic?.secret ?? body.client_secret
    if (!secret) return oauthError(reply, 'invalid_client', 'No client secret (the API key) was sent', false)
    const clientId = basic?.id || body.client_id
    const check = async () => {
      const found = await apiKeys.authenticate(secret)
      if (!found || (clientId && clientId !== found.keyId)) throw new DomainError('auth.unauthenticated', 'Unknown, revoked or expired API key')
      return found
    }
    let principal: Awaited<ReturnType<typeof check>>
    try {
      // Under the failed-authentication pause's guard, like every credential check (src/plugins/rate-limit.ts).
      principal = await app.guardAuthentication(request, check)
    } catch (err) {
      if (err instanceof DomainError && err.status === 401) return oauthError(reply, 'invalid_client', err.message, basic !== null)
      throw err
    }
    let scopes = principal.scopes
    if (body.scope !== undefined) {
      const asked = body.scope.split(' ').filter(Boolean)
      if (asked.some((s) => !principal.scopes.includes(s))) return oauthError(reply, 'invalid_scope', 'The key does not hold every scope asked for')
      scopes = asked
    }
    const accessToken = app.jwt.sign(
      { sub: `apikey:${principal.keyId}`, wid: principal.workspaceId, scope: scopes.join(' '), akid: principal.keyId },
      { expiresIn: EXCHANGED_TOKEN_TTL_S })
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      .send({ access_token: accessToken, token_type: 'Bearer' as const, expires_in: EXCHANGED_TOKEN_TTL_S, scope: scopes.join(' ') })
  })
}
