import { GraphQLScalarType } from 'graphql'
import { DateTimeResolver, JSONResolver } from 'graphql-scalars'

// graphql-scalars validates RFC 3339 date-times; resolvers then get an ISO string, the same
// shape REST input has, so the shared zod schemas validate both transports alike.
export const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  parseValue: (value) => (DateTimeResolver.parseValue(value) as Date).toISOString(),
  parseLiteral: (ast, variables) => (DateTimeResolver.parseLiteral(ast, variables) as Date).toISOString()
})

export const JSONScalar = JSONResolver
