/**
 * The one table of error codes. Services throw DomainErrors with these codes; REST turns them into
 * RFC 9457 problem+json (status from this table) and GraphQL into `extensions.code`.
 */
export const errorCatalog = {
  'validation.failed': { status: 400, title: 'The request is not valid' },
  'graphql.invalid_query': { status: 400, title: 'The GraphQL document is not valid against the schema' },
  'graphql.cost_limit_exceeded': { status: 400, title: 'The query asks for more nodes than the cost budget allows' },
  'graphql.alias_limit_exceeded': { status: 400, title: 'The query uses too many aliases' },
  'request.malformed': { status: 400, title: 'The request body could not be parsed' },
  'request.invalid_cursor': { status: 400, title: 'The pagination cursor is not valid' },
  'auth.unauthenticated': { status: 401, title: 'A valid bearer token is required' },
  'auth.forbidden': { status: 403, title: 'The token lacks a required scope' },
  'route.not_found': { status: 404, title: 'No such route' },
  'contact.not_found': { status: 404, title: 'Contact not found' },
  'channel.not_found': { status: 404, title: 'Channel not found' },
  'interaction.not_found': { status: 404, title: 'Interaction not found' },
  'identity.not_found': { status: 404, title: 'Identity not found' },
  'merge.not_found': { status: 404, title: 'Merge not found' },
  'promise.not_found': { status: 404, title: 'Promise not found' },
  'import.not_found': { status: 404, title: 'Import job not found' },
  'suggestion.not_found': { status: 404, title: 'Promise suggestion not found' },
  'apikey.not_found': { status: 404, title: 'API key not found' },
  'webhook.not_found': { status: 404, title: 'Webhook endpoint not found' },
  'delivery.not_found': { status: 404, title: 'Webhook delivery not found' },
  'webhook.disabled': { status: 409, title: 'The webhook endpoint is disabled; enable it first' },
  'idempotency.in_progress': { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  'idempotency.key_reused': { status: 422, title: 'This Idempotency-Key was used with another request' },
  'request.rate_limited': { status: 429, title: 'Too many requests' },
  'contact.duplicate': { status: 409, title: 'A contact with this email or externalId already exists' },
  'identity.duplicate': { status: 409, title: 'This identity already belongs to a contact' },
  'contact.merge_invalid': { status: 409, title: 'These contacts cannot be merged' },
  'merge.already_undone': { status: 409, title: 'This merge was already undone' },
  'promise.invalid_transition': { status: 409, title: 'This promise cannot make that transition' },
  'promise.evidence_required': { status: 409, title: 'Keeping this promise needs evidence: an outbound interaction to the contact' },
  'suggestion.already_decided': { status: 409, title: 'This suggestion was already accepted or dismissed' },
  'import.not_cancellable': { status: 409, title: 'This import job has already ended' },
  'import.malformed': { status: 400, title: 'The uploaded file could not be parsed' },
  'channel.paused': { status: 409, title: 'The channel is paused' },
  'channel.cannot_send': { status: 409, title: 'This channel kind cannot send messages' },
  'message.no_recipient': { status: 422, title: 'The contact has no address on this channel' },
  'inbound.unauthenticated': { status: 401, title: 'The provider signature did not verify' },
  'inbound.malformed': { status: 400, title: 'The provider payload could not be read' },
  'precondition.failed': { status: 412, title: 'The resource changed since you read it (If-Match)' },
  'request.uri_too_long': { status: 414, title: 'The request URL is too long' },
  'request.too_large': { status: 413, title: 'The request body is too large' },
  'request.unsupported_media_type': { status: 415, title: 'Unsupported content type' },
  'service.unavailable': { status: 503, title: 'The service is temporarily unavailable' },
  internal: { status: 500, title: 'Internal server error' }
} as const satisfies Record<string, { status: number, title: string }>

export type ErrorCode = keyof typeof errorCatalog

export interface FieldError { pointer: string, message: string, code?: string }

export class DomainError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: Record<string, unknown>
  constructor (code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? errorCatalog[code].title)
    this.name = 'DomainError'
    this.code = code
    this.status = errorCatalog[code].status
    this.details = details
  }
}

export const notFound = (code: ErrorCode & `${string}.not_found`, id: string) =>
  new DomainError(code, `${errorCatalog[code].title}: ${id}`, { id })

export const validationError = (errors: FieldError[], message = 'The request is not valid') =>
  new DomainError('validation.failed', message, { errors })

export const problemType = (code: string) => `/problems/${code}`
