import type { RequestContext } from '../lib/context.js'
import type { Services } from '../services.js'

/** What every resolver receives: the caller (built once by the auth plugin) and the services. */
export interface GraphQLContext {
  ctx: RequestContext
  services: Services
}

declare module 'mercurius' {
  interface MercuriusContext extends GraphQLContext {}
}
