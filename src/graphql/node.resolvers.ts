import type { GqlResolvers as Resolvers, GqlResolversInterfaceTypes, GqlResolversTypes } from './generated.js'
import type { RequestContext } from '../lib/context.js'
import { DomainError } from '../lib/errors.js'
import { requireScope } from '../lib/context.js'
import type { Services } from '../services.js'

type NodeValue = GqlResolversInterfaceTypes<GqlResolversTypes>['Node']
type Loader = (ctx: RequestContext, services: Services, ids: string[]) => Promise<Array<NodeValue | null>>

// Relay Global Object Identification: the id's prefix names its type and the service that reads it.
const loaders: Record<string, { scope: Parameters<typeof requireScope>[1], load: Loader }> = {
  con: { scope: 'contacts:read', load: (ctx, s, ids) => s.contacts.getMany(ctx, ids) },
  chn: { scope: 'channels:read', load: (ctx, s, ids) => s.channels.getMany(ctx, ids) },
  int: { scope: 'interactions:read', load: (ctx, s, ids) => s.interactions.getMany(ctx, ids) },
  prm: { scope: 'promises:read', load: (ctx, s, ids) => Promise.all(ids.map((id) => s.promises.get(ctx, id).catch(nullIfNotFound))) },
  whe: { scope: 'webhooks:read', load: (ctx, s, ids) => Promise.all(ids.map((id) => s.webhooks.get(ctx, id).catch(nullIfNotFound))) },
  key: { scope: 'admin', load: (ctx, s, ids) => Promise.all(ids.map((id) => s.apiKeys.get(ctx, id).catch(nullIfNotFound))) }
}

function nullIfNotFound (err: unknown): null {
  if (err instanceof DomainError && err.status === 404) return null
  throw err
}

async function lookup (ctx: RequestContext, services: Services, ids: string[]): Promise<Array<NodeValue | null>> {
  const out: Array<NodeValue | null> = ids.map(() => null)
  const byPrefix = new Map<string, number[]>()
  ids.forEach((id, i) => {
    const prefix = id.split('_')[0]
    if (loaders[prefix]) byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), i])
  })
  for (const [prefix, positions] of byPrefix) {
    const { scope, load } = loaders[prefix]
    requireScope(ctx, scope)
    const found = await load(ctx, services, positions.map((i) => ids[i]))
    positions.forEach((pos, k) => { out[pos] = found[k] })
  }
  return out
}

export const nodeResolvers: Resolvers = {
  Query: {
    node: async (_root, { id }, { ctx, services }) => (await lookup(ctx, services, [id]))[0],
    nodes: async (_root, { ids }, { ctx, services }) => {
      if (ids.length > 100) throw new DomainError('validation.failed', 'At most 100 ids', { errors: [{ pointer: '/ids', message: 'At most 100 ids', code: 'too_big' }] })
      return lookup(ctx, services, ids)
    }
  }
}
