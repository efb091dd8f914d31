import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { DomainError } from '../lib/errors.js'
import { sendProblem } from './problem.js'

/** Seconds a refused client is told to wait: long enough for a burst to pass, short for a person. */
export const RETRY_AFTER_SECONDS = 1

/**
 * Load shedding: beyond `maxInFlight` requests at once, a request gets a 503 problem with
 * Retry-After at once instead of queueing for a pool connection. Without it, 500 clients on a pool
 * of 10 would each wait behind the others with their bodies and sockets held in memory, and a
 * slow database would turn every client's timeout into a retry storm. Probes are never refused:
 * an orchestrator must still see the process alive and ready.
 */
async function underPressure (app: FastifyInstance, opts: { maxInFlight: number }) {
  if (!opts.maxInFlight) return
  let inFlight = 0
  app.decorate('inFlight', () => inFlight)
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url
    if (path === '/healthz' || path === '/readyz') return
    if (inFlight >= opts.maxInFlight) {
      reply.header('retry-after', String(RETRY_AFTER_SECONDS))
      return sendProblem(reply, request, new DomainError('service.unavailable', 'The server is at capacity; retry after the Retry-After delay'))
    }
    inFlight++
    // 'close' fires once whether the answer was sent or the client went away mid-request.
    reply.raw.once('close', () => { inFlight-- })
  })
}

export default fp(underPressure, { name: 'under-pressure', dependencies: ['problem'] })

declare module 'fastify' {
  interface FastifyInstance { inFlight?: () => number }
}
