import type { FastifyInstance, RouteOptions } from 'fastify'

type HookName = 'preValidation' | 'preHandler' | 'onSend' | 'onResponse'

/**
 * Adds hooks only to the routes that need them (every route registered after this call that
 * `applies` to), where app.addHook would run them, and allocate a promise for each, on every
 * request of every route: the hot GETs skip what only a POST or /graphql needs.
 */
export function addRouteHooks (app: FastifyInstance, applies: (route: RouteOptions) => boolean, hooks: Partial<Record<HookName, unknown>>): void {
  app.addHook('onRoute', (route) => {
    if (!applies(route)) return
    const target = route as unknown as Record<HookName, unknown>
    for (const [name, hook] of Object.entries(hooks) as [HookName, unknown][]) {
      const existing = target[name]
      target[name] = existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook]
    }
  })
}

/** Whether a route answers POST (its method may be a list). */
export const takesPost = (route: RouteOptions) => ([] as string[]).concat(route.method).includes('POST')
