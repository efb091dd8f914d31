/** One registered route: an HTTP method and a Fastify path (`/v1/contacts/:id`). */
export interface RegisteredRoute { method: string, url: string }

const line = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/

/**
 * Every route of a ready app, read from `app.printRoutes({ commonPrefix: false })`: a radix tree
 * where each node's label continues its parent's path and lists the methods that end there.
 */
export function registeredRoutes (printed: string): RegisteredRoute[] {
  const stack: string[] = []
  const routes: RegisteredRoute[] = []
  for (const text of printed.split('\n')) {
    if (!text.trim()) continue
    const m = line.exec(text)
    if (!m) throw new Error(`printRoutes line not understood: ${JSON.stringify(text)}`)
    const depth = m[1].length / 4
    const url = (depth > 0 ? stack[depth - 1] : '') + m[2]
    stack[depth] = url
    stack.length = depth + 1
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) routes.push({ method, url })
  }
  return routes
}

/** `/v1/contacts/{id}` (OpenAPI) as `/v1/contacts/:id` (Fastify). */
export const toFastifyPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1')
/** `/v1/contacts/:id` (Fastify) as `/v1/contacts/{id}` (OpenAPI). */
export const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
