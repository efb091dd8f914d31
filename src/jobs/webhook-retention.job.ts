import type { Db } from '../db/client.js'
import type { Clock } from '../lib/clock.js'
import { deleteFinishedDeliveries } from '../modules/webhooks/webhooks.repository.js'

const DAY_MS = 86_400_000

/**
 * One step of the delivery log's retention: deletes a small batch of finished deliveries (and,
 * by cascade, their attempts) older than the retention, so no statement holds many locks or runs
 * long; the poller repeats while batches come back full. Pending deliveries are never touched.
 * A retention of 0 days keeps everything.
 */
export function createWebhookRetentionJob (opts: { db: Db, clock: Clock, retentionDays: number, batchSize?: number }) {
  const batchSize = opts.batchSize ?? 500
  return async function step (): Promise<boolean> {
    if (opts.retentionDays === 0) return false
    const cutoff = new Date(opts.clock.now().getTime() - opts.retentionDays * DAY_MS)
    return (await deleteFinishedDeliveries(opts.db, cutoff, batchSize)) === batchSize
  }
}
