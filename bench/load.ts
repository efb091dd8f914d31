import autocannon from 'autocannon'

export interface QuerySpec { name: string, method?: 'GET' | 'POST', path: (i: number) => string, body?: (i: number) => string, check?: (status: number, body: string) => boolean }
export interface Measure { target: string, query: string, round: number, rps: number, p50: number, p99: number, errors: number, non2xx: number }

/**
 * One autocannon run: warm-up discarded, then the measured window. Any non-2xx fails the run, and so
 * does a GraphQL answer that carries `errors` (GraphQL reports them with a 200).
 */
export async function measure (target: string, baseUrl: string, headers: Record<string, string>, spec: QuerySpec,
  opts: { connections: number, duration: number, warmup: number, round: number }): Promise<Measure> {
  let i = 0
  let graphqlErrors = 0
  const graphql = spec.path(0).startsWith('/graphql')
  const run = (duration: number) => autocannon({
    url: baseUrl,
    connections: opts.connections,
    duration,
    requests: [{
      method: spec.method ?? 'GET',
      setupRequest: (req) => {
        const n = i++
        return { ...req, path: spec.path(n), headers: { ...headers, ...(spec.body ? { 'content-type': 'application/json' } : {}) }, body: spec.body?.(n) }
      },
      // Only GraphQL bodies are read: autocannon skips collecting a body without this callback.
      ...(graphql ? { onResponse: (_status: number, body: string) => { if (body.includes('"errors"')) graphqlErrors++ } } : {})
    }]
  })
  if (opts.warmup > 0) await run(opts.warmup)
  graphqlErrors = 0
  const r = await run(opts.duration)
  return { target, query: spec.name, round: opts.round, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + graphqlErrors, non2xx: r.non2xx }
}
