import type { Db } from '../db/client.js'
import { enterWorkspace } from '../db/tenant.js'
import { listEvents, type LoggedEvent } from '../modules/events/events.log.js'
import { newId } from '../lib/ids.js'
import { enabledEndpoints, insertDeliveries, lockConsumer, moveConsumer, type EndpointRow, type NewDelivery } from '../modules/webhooks/webhooks.repository.js'

/** The fan-out's row in event_consumers. */
export const WEBHOOK_CONSUMER = 'webhooks'

/**
 * One step of the webhook fan-out: reads the next events of every workspace from the log and
 * queues one delivery per matching enabled endpoint. The cursor moves in the same transaction
 * as the inserts, so a crash repeats nothing and loses nothing; the unique (endpoint, event) key
 * makes even a repeated batch harmless.
 */
export function createWebhookFanoutJob (opts: { db: Db, batchSize?: number, onQueued?: () => void }) {
  const batchSize = opts.batchSize ?? 200
  return async function step (): Promise<boolean> {
    const { read, queued } = await opts.db.transaction(async (tx) => {
      // As the owner (before entering any workspace): the consumer row and the whole log.
      const consumer = await lockConsumer(tx, WEBHOOK_CONSUMER)
      if (!consumer) return { read: 0, queued: 0 }
      const page = await listEvents(tx, { after: consumer.position ?? undefined, limit: batchSize })
      if (page.items.length === 0) return { read: 0, queued: 0 }
      await moveConsumer(tx, WEBHOOK_CONSUMER, page.nextCursor!)
      let queued = 0
      for (const [workspaceId, events] of byWorkspace(page.items)) {
        await enterWorkspace(tx, workspaceId)
        const endpoints = await enabledEndpoints(tx, workspaceId)
        if (endpoints.length) queued += await insertDeliveries(tx, events.flatMap((e) => deliveriesOf(e, endpoints)))
      }
      return { read: page.items.length, queued }
    })
    if (queued > 0) opts.onQueued?.()
    return read === batchSize
  }
}

function byWorkspace (events: LoggedEvent[]): Map<string, LoggedEvent[]> {
  const groups = new Map<string, LoggedEvent[]>()
  for (const e of events) {
    const group = groups.get(e.workspaceId)
    if (group) group.push(e)
    else groups.set(e.workspaceId, [e])
  }
  return groups
}

function deliveriesOf (event: LoggedEvent, endpoints: EndpointRow[]): NewDelivery[] {
  // An endpoint hears of events from its creation on, not of the backlog the fan-out had yet to read.
  const matching = endpoints.filter((ep) => (ep.eventTypes.includes('*') || ep.eventTypes.includes(event.type)) && ep.createdAt.getTime() <= Date.parse(event.occurredAt))
  if (matching.length === 0) return []
  // The body is fixed now, so every attempt (and a redelivery) signs the very same bytes.
  const payload = JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: event.data })
  return matching.map((ep) => ({
    workspaceId: event.workspaceId,
    id: newId('webhookDelivery'),
    endpointId: ep.id,
    eventId: event.id,
    eventType: event.type,
    payload,
    nextAttemptAt: new Date(event.occurredAt)
  }))
}
