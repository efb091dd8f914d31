import { setTimeout as delay } from 'node:timers/promises'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'

export interface Received { data?: Record<string, any> | null, errors?: Array<{ message: string, extensions?: Record<string, any> }> }

/** A graphql-transport-ws client against a listening app; `auth` is the connection_init payload. */
export function wsClient (url: string, auth: Record<string, unknown> | undefined): Client {
  return createClient({ url, webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0, lazy: true })
}

/** One subscription whose results, error and completion a test can wait for. */
export function subscribe (client: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: Received[] = []
  let failure: unknown
  let completed = false
  const dispose = client.subscribe({ query, variables }, {
    next: (value) => { results.push(value as Received) },
    error: (err) => { failure = err },
    complete: () => { completed = true }
  })
  return {
    results,
    get failure () { return failure },
    get completed () { return completed },
    dispose,
    /** Waits until `done(results)` holds, or failure, completion or timeout; returns whether it held. */
    async until (done: (r: Received[]) => boolean, ms = 10_000): Promise<boolean> {
      const end = Date.now() + ms
      while (Date.now() < end) {
        if (done(results)) return true
        if (failure !== undefined || completed) return done(results)
        await delay(20)
      }
      return done(results)
    }
  }
}
export type Subscription = ReturnType<typeof subscribe>

/**
 * There is no "subscribed" message in the protocol: `poke` (a write the stream will carry) is
 * repeated until the first result shows the subscription live; every poke must yield exactly one
 * result. Clears the results and returns how many pokes it took.
 */
export async function untilLive (sub: Subscription, poke: () => Promise<unknown>, ms = 10_000): Promise<number> {
  const end = Date.now() + ms
  let pokes = 0
  while (Date.now() < end && sub.results.length === 0 && sub.failure === undefined && !sub.completed) {
    await poke()
    pokes++
    await sub.until((r) => r.length > 0, 500)
  }
  if (sub.results.length === 0) throw new Error(`subscription never went live: ${String((sub.failure as Error)?.message ?? JSON.stringify(sub.failure) ?? 'no result')}`)
  // Each poke yields one result: wait for the late ones too, then start the test from a clean slate.
  await sub.until((r) => r.length >= pokes, 10_000)
  sub.results.length = 0
  return pokes
}
