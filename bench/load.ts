import autocannon from 'autocannon'

export interface QuerySpec { name: string, method?: 'GET' | 'POST', path: (i: number) => string, body?: (i: number) => string, check?: (status: number, body: string) => boolean }
export interface Measure { target: string, query: string, round: number, rps: number, p50: number, p99: number, errors: number, non2xx: number }

/** One autocannon run: warm-up discarded, then the measured window; any non-2xx fails the run. */
export async function measure (target: string, baseUrl: string, headers: Record<string, string>, spec: QuerySpec,
  opts: { connections: number, duration: number, warmup: number, round: number }): Promise<Measure> {
  let i = 0
  const run = (duration: number) => autocannon({
    url: baseUrl,
    connections: opts.connections,
    duration,
    requests: [{
      method: spec.method ?? 'GET',
      setupRequest: (req) => {
        const n = i++
        return { ...req, path: spec.path(n), headers: { ...headers, ...(spec.body ? { 'content-type': 'application/json' } : {}) }, body: spec.body?.(n) }
      }
    }]
  })
  if (opts.warmup > 0) await run(opts.warmup)
  const r = await run(opts.duration)
  return { target, query: spec.name, round: opts.round, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx }
}
