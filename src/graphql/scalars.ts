import { GraphQLScalarType } from 'graphql'
import { DateTimeResolver, JSONResolver } from 'graphql-scalars'

// graphql-scalars validates RFC 3339 date-times; resolvers then get an ISO string, the same
// shape REST input has, so the shared zod schemas validate both transports alike.
// Only behaviour is taken from graphql-scalars: names and descriptions stay schema.graphql's.
export const DateTime = {
  serialize: DateTimeResolver.serialize,
  parseValue: (value: unknown) => (DateTimeResolver.parseValue(value) as Date).toISOString(),
  parseLiteral: (ast: Parameters<GraphQLScalarType['parseLiteral']>[0], variables?: Record<string, unknown> | null) =>
    (DateTimeResolver.parseLiteral(ast, variables) as Date).toISOString()
}

export const JSONScalar = {
  serialize: JSONResolver.serialize,
  parseValue: JSONResolver.parseValue,
  parseLiteral: JSONResolver.parseLiteral
}
