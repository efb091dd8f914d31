/**
 * Exponential backoff with jitter: the delay after the `attempt`-th failure (1-based) is drawn
 * from the upper half of `baseMs * factor^(attempt - 1)`, capped at `capMs` (an hour by default).
 * Half the ceiling is kept so that a retry never comes much sooner than planned; the other half is
 * random, so that rows failed together by one blip do not all come back in the same instant.
 */
export function exponentialBackoff (attempt: number, baseMs: number, opts: { factor?: number, capMs?: number } = {}): number {
  const ceiling = Math.min(opts.capMs ?? 3_600_000, baseMs * (opts.factor ?? 2) ** Math.max(0, attempt - 1))
  return ceiling / 2 + Math.random() * ceiling / 2
}
