import { z } from 'zod'
import { allScopes } from '../../lib/context.js'

export const ApiKeyScope = z.enum(allScopes)

export const ApiKeyCreate = z.object({
  name: z.string().trim().min(1).max(200),
  scopes: z.array(ApiKeyScope).min(1).max(allScopes.length)
    .meta({ description: 'What the key may do: a subset of the scopes of the token that creates it' }),
  expiresAt: z.iso.datetime({ offset: true }).max(40).optional().meta({ description: 'After this instant the key stops working (401)' })
}).strict().meta({ id: 'ApiKeyCreate' })
export type ApiKeyCreateInput = z.output<typeof ApiKeyCreate>

export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().meta({ description: 'The first characters of the secret, to tell keys apart' }),
  scopes: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable().meta({ description: 'Last authentication with this key (updated at most once a minute)' }),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  version: z.number().int()
}).meta({ id: 'ApiKey' })
export type ApiKeyDto = z.output<typeof ApiKey>

export const ApiKeyWithSecret = ApiKey.extend({
  secret: z.string().meta({ description: 'The key itself. Shown once, in this answer only: Rapport keeps only its hash' })
}).meta({ id: 'ApiKeyWithSecret' })

export const ApiKeyList = z.object({ data: z.array(ApiKey), nextCursor: z.string().nullable() }).meta({ id: 'ApiKeyList' })
export const ApiKeyListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional()
}).strict()
export type ApiKeyListInput = z.output<typeof ApiKeyListQuery>
export const ApiKeyIdParams = z.object({ id: z.string().min(1).max(100) })

/** OAuth 2 client credentials (RFC 6749 §4.4), as a form or JSON body. */
export const TokenRequest = z.object({
  grant_type: z.string().max(100).meta({ description: 'Must be client_credentials' }),
  client_id: z.string().max(200).optional().meta({ description: 'The key id (optional; HTTP Basic may carry it instead)' }),
  client_secret: z.string().max(500).optional().meta({ description: 'The API key (or send it as the HTTP Basic password)' }),
  scope: z.string().max(1000).optional().meta({ description: 'Space-separated scopes to narrow the token to (default: all of the key\'s)' })
}).meta({ id: 'TokenRequest' })

export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string()
}).meta({ id: 'TokenResponse' })

export const OAuthError = z.object({
  error: z.enum(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']),
  error_description: z.string().optional()
}).meta({ id: 'OAuthError', description: 'RFC 6749 §5.2 error response' })
