import type { FastifyBaseLogger } from 'fastify'

export interface Poller { start: () => void, kick: () => void, stop: () => Promise<void>, drain: () => Promise<void> }

/**
 * Runs `step` until it reports no more work, on a timer and whenever kicked (a request just
 * queued work). Several processes may poll one database: the steps claim rows with SKIP LOCKED.
 * `drain()` runs the steps on demand whether or not the timer was started (a process with
 * WORKERS=false, a test); `stop()` ends them until the next `start()`.
 */
export function createPoller (name: string, step: () => Promise<boolean>, opts: { intervalMs: number, log: FastifyBaseLogger }): Poller {
  let timer: NodeJS.Timeout | undefined
  let current: Promise<void> | undefined
  let again = false
  let stopped = false

  async function loop () {
    do {
      again = false
      try {
        while (!stopped && await step()) { /* keep draining */ }
      } catch (err) {
        opts.log.error({ err, job: name }, 'job step failed; will retry on the next tick')
      }
    } while (again && !stopped)
  }

  function drain (): Promise<void> {
    if (current) {
      again = true
      return current
    }
    current = loop().finally(() => { current = undefined })
    return current
  }

  return {
    start () {
      if (timer) return
      stopped = false
      timer = setInterval(() => { void drain() }, opts.intervalMs)
      timer.unref()
      void drain()
    },
    kick () {
      // Only a started poller works in the background; without one the work waits for a drain.
      if (timer && !stopped) setImmediate(() => { void drain() })
    },
    drain,
    async stop () {
      stopped = true
      if (timer) clearInterval(timer)
      timer = undefined
      await current
    }
  }
}
