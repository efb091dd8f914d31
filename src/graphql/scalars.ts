import { GraphQLScalarType } from 'graphql'
import { DateTimeResolver, JSONResolver } from 'graphql-scalars'

// graphql-scalars validates RFC 3339 date-times; resolvers then get an ISO string, the same
// shape REST input has, so the shared zod schemas validate both transports alike.
// Only behaviour is taken from graphql-scalars: names and descriptions stay schema.graphql's.
// The shape isoTime and toISOString write, which every DateTime the services hand out has (inputs
// are normalised by parseValue below): passed as is, since graphql-scalars would validate it, parse
// it into a Date and have JSON write the very same string back. Anything else still goes through it.
const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

export const DateTime = {
  serialize: (value: unknown) => typeof value === 'string' && isoUtc.test(value) ? value : DateTimeResolver.serialize(value),
  parseValue: (value: unknown) => (DateTimeResolver.parseValue(value) as Date).toISOString(),
  parseLiteral: (ast: Parameters<GraphQLScalarType['parseLiteral']>[0], variables?: Record<string, unknown> | null) =>
    (DateTimeResolver.parseLiteral(ast, variables) as Date).toISOString()
}

export const JSONScalar = {
  serialize: JSONResolver.serialize,
  parseValue: JSONResolver.parseValue,
  parseLiteral: JSONResolver.parseLiteral
}
