import { createHmac } from 'node:crypto'
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../../src/plugins/auth.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** A JWT built by hand (not by @fastify/jwt), HS256-signed with `secret`, or unsigned when null. */
export function handMadeJwt (header: object, claims: object, secret: string | null): string {
  const body = `${b64(header)}.${b64(claims)}`
  return secret === null ? `${body}.` : `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

/**
 * Tokens that must all be refused with a 401: each differs from a valid token by one property.
 * `null` stands for "no Authorization header at all".
 */
export function badTokens (jwtSecret: string, workspace = 'acme'): Record<string, string | null> {
  const now = Math.floor(Date.now() / 1000)
  const good = { sub: 'attacker', wid: workspace, scope: 'contacts:read contacts:write', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 600 }
  const hs256 = { alg: 'HS256', typ: 'JWT' }
  return {
    'no token': null,
    'bad signature': handMadeJwt(hs256, good, 'not-the-secret-not-the-secret-not-the-secret'),
    expired: handMadeJwt(hs256, { ...good, iat: now - 7200, exp: now - 3600 }, jwtSecret),
    'alg none': handMadeJwt({ alg: 'none', typ: 'JWT' }, good, null),
    'other audience': handMadeJwt(hs256, { ...good, aud: 'another-api' }, jwtSecret)
  }
}

/** The same claims, correctly signed: the control that proves the bad ones fail for their one defect. */
export function controlToken (jwtSecret: string, workspace = 'acme', scope = 'contacts:read'): string {
  const now = Math.floor(Date.now() / 1000)
  return handMadeJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'attacker', wid: workspace, scope, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 600 }, jwtSecret)
}
