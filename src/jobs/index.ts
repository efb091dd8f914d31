import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import type { Clock } from '../lib/clock.js'
import type { Services } from '../services.js'
import { createPoller, type Poller } from './poller.js'
import { createSendMessageJob } from './send-message.job.js'

export interface Jobs { inbox: Poller, outbox: Poller, start: () => void, stop: () => Promise<void> }

/** The durable workers: provider webhooks stored in the inbox, and sends waiting in the outbox. */
export function createJobs (opts: { config: Config, db: Db, clock: Clock, services: Services, log: FastifyBaseLogger, fetch?: typeof fetch }): Jobs {
  const { config, services, log } = opts
  const inbox = createPoller('inbox', () => services.inbound.processNext(), { intervalMs: config.workerPollMs, log })
  const sendStep = createSendMessageJob({
    db: opts.db, clock: opts.clock, channels: services.channels, fetch: opts.fetch,
    maxAttempts: config.outbox.maxAttempts, backoffBaseMs: config.outbox.backoffBaseMs, leaseMs: config.outbox.leaseMs
  })
  const outbox = createPoller('outbox', sendStep, { intervalMs: config.workerPollMs, log })
  return {
    inbox,
    outbox,
    start () {
      if (!config.workers) return
      inbox.start()
      outbox.start()
    },
    async stop () {
      await Promise.all([inbox.stop(), outbox.stop()])
    }
  }
}
