import { DomainError } from '../lib/errors.js'
import { isDatabaseGone } from './client.js'

interface Open { until: number, probing: boolean }
const openBreakers = new WeakMap<object, Open>()
const COOL_DOWN_MS = 1000

/**
 * A circuit breaker per database (connection-level failures only: a statement cancelled by its
 * timeout must not make every other request fail): once a query finds the database gone, other requests answer 503
 * at once for a second instead of each queueing for a connect timeout in the pool (an outage
 * would otherwise pile up waiting requests); then one request at a time tries again, and the
 * first that reaches the database closes the breaker. /readyz probes through `probe`, which
 * always tries, so readiness and recovery are seen at once.
 */
export async function guarded<T> (db: object, fn: () => Promise<T>): Promise<T> {
  const open = openBreakers.get(db)
  if (open) {
    if (open.probing || Date.now() < open.until) throw new DomainError('service.unavailable', 'The database does not answer; retry later')
    open.probing = true
  }
  return probe(db, fn)
}

export async function probe<T> (db: object, fn: () => Promise<T>): Promise<T> {
  try {
    const result = await fn()
    openBreakers.delete(db)
    return result
  } catch (err) {
    if (isDatabaseGone(err)) openBreakers.set(db, { until: Date.now() + COOL_DOWN_MS, probing: false })
    else openBreakers.delete(db) // the database answered (with a rule error): it is up
    throw err
  }
}
