import { GraphQLError } from 'graphql'
import type { MercuriusContext } from 'mercurius'
import { DomainError } from '../lib/errors.js'
import { toDomainError } from '../plugins/problem.js'

interface Execution { data?: unknown, errors: readonly GraphQLError[], statusCode?: number }

/**
 * GraphQL errors carry the same codes as REST problems, in `extensions.code`. Errors raised
 * before execution (syntax, validation against the schema) get `graphql.invalid_query`.
 * A 5xx never leaks its message.
 */
export function formatGraphQLErrors (execution: Execution, context: MercuriusContext) {
  const log = context.reply?.log ?? context.app.log
  const errors = execution.errors.flatMap((error) => {
    const original = error.originalError as (Error & { errors?: GraphQLError[] }) | undefined
    if (original && Array.isArray(original.errors)) return original.errors.map((e) => asQueryError(e))
    if (!original || original instanceof GraphQLError) return [asQueryError(error)]
    const domain = toDomainError(original)
    if (domain.status >= 500) log.error({ err: original }, 'resolver failed')
    return [{ message: domain.message, locations: error.locations, path: error.path, extensions: { code: domain.code, ...domain.details } }]
  })
  // A request refused before execution has no `data` entry at all (GraphQL spec, "Response").
  const response = 'data' in execution ? { data: execution.data ?? null, errors } : { errors }
  return { statusCode: statusOf(execution, context), response }
}

/**
 * An executed operation answers 200 whatever its field errors. A request refused before
 * execution (no `data` at all: bad token, missing scope) keeps its HTTP status and challenge.
 */
function statusOf (execution: Execution, context: MercuriusContext): number {
  if ('data' in execution) return execution.data ? 200 : (execution.statusCode ?? 200)
  const original = execution.errors[0]?.originalError as (Error & { statusCode?: number }) | undefined
  if (!(original instanceof DomainError)) {
    // mercurius' own refusals carry their status: 405 for a mutation sent over GET.
    const status = execution.statusCode ?? original?.statusCode ?? 400
    if (status === 405) context.reply?.header('allow', 'POST')
    return status
  }
  if (original.status === 401) context.reply?.header('www-authenticate', 'Bearer realm="rapport", error="invalid_token"')
  return original.status
}

function asQueryError (error: GraphQLError | Error) {
  const gql = error as GraphQLError
  return {
    message: error.message,
    locations: gql.locations,
    path: gql.path,
    extensions: { code: 'graphql.invalid_query', ...(gql.extensions ?? {}) }
  }
}

export { DomainError }
