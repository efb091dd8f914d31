import type { MercuriusContext } from 'mercurius'
import type { GraphQLContext } from './context.js'

/**
 * A payload that holds a one-time secret: `Cache-Control: no-store`, so that no cache keeps it and
 * the Idempotency-Key store never writes it down (it skips answers marked so), as REST does.
 */
export function holdsSecret (context: GraphQLContext): void {
  (context as Partial<MercuriusContext>).reply?.header('cache-control', 'no-store')
}
