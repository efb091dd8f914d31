import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import type { Clock } from '../lib/clock.js'
import type { Services } from '../services.js'
import { createPoller, type Poller } from './poller.js'
import { createSendMessageJob } from './send-message.job.js'
import { createWebhookDeliveryJob } from './webhook-delivery.job.js'
import { createWebhookFanoutJob } from './webhook-fanout.job.js'
import { createWebhookRetentionJob } from './webhook-retention.job.js'

// Retention has no deadline to keep to the second: old deliveries are looked for once a minute.
const RETENTION_POLL_MS = 60_000

export interface Jobs { inbox: Poller, outbox: Poller, scheduler: Poller, imports: Poller, webhookFanout: Poller, webhookDelivery: Poller, webhookRetention: Poller, start: () => void, stop: () => Promise<void> }

/** The durable workers: provider webhooks stored in the inbox, and sends waiting in the outbox. */
export function createJobs (opts: { config: Config, db: Db, clock: Clock, services: Services, log: FastifyBaseLogger, fetch?: typeof fetch }): Jobs {
  const { config, services, log } = opts
  const inbox = createPoller('inbox', () => services.inbound.processNext(), { intervalMs: config.workerPollMs, log })
  const sendStep = createSendMessageJob({
    db: opts.db, clock: opts.clock, channels: services.channels, fetch: opts.fetch,
    maxAttempts: config.outbox.maxAttempts, backoffBaseMs: config.outbox.backoffBaseMs, leaseMs: config.outbox.leaseMs
  })
  const outbox = createPoller('outbox', sendStep, { intervalMs: config.workerPollMs, log })
  // Promises turn at_risk and broken with time alone: the scheduler polls due deadlines.
  const scheduler = createPoller('promise-scheduler', async () => (await services.promises.tick()) > 0, { intervalMs: config.workerPollMs, log })
  const imports = createPoller('imports', () => services.imports.processNext(), { intervalMs: config.workerPollMs, log })
  // Outbound webhooks: the fan-out turns new log events into deliveries, the delivery worker sends them.
  const webhookDelivery = createPoller('webhook-delivery', createWebhookDeliveryJob({ db: opts.db, clock: opts.clock, webhooks: services.webhooks, config: config.webhooks }), { intervalMs: config.workerPollMs, log })
  const webhookFanout = createPoller('webhook-fanout', createWebhookFanoutJob({ db: opts.db, onQueued: () => webhookDelivery.kick() }), { intervalMs: config.workerPollMs, log })
  const webhookRetention = createPoller('webhook-retention', createWebhookRetentionJob({ db: opts.db, clock: opts.clock, retentionDays: config.webhooks.retentionDays }),
    { intervalMs: Math.max(config.workerPollMs, RETENTION_POLL_MS), log })
  const all = [inbox, outbox, scheduler, imports, webhookFanout, webhookDelivery, webhookRetention]
  return {
    inbox,
    outbox,
    scheduler,
    imports,
    webhookFanout,
    webhookDelivery,
    webhookRetention,
    start () {
      if (config.workers) for (const p of all) p.start()
    },
    async stop () {
      await Promise.all(all.map((p) => p.stop()))
    }
  }
}
