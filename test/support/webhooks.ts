import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { desc, sql } from 'drizzle-orm'
import { decodePosition } from '../../src/modules/events/events.log.js'
import { events } from '../../src/modules/events/events.table.js'
import { eventConsumers } from '../../src/modules/webhooks/webhooks.table.js'
import { build, type TestApp } from '../helper.js'
import { eventually, workspaces, type asWorkspace } from './channels/index.js'

interface TapLike { teardown: (fn: () => unknown) => void, fail?: (message: string) => unknown }

export interface ReceivedWebhook { path: string, headers: IncomingHttpHeaders, body: string }
export interface Reply { status: number, headers?: Record<string, string>, /** Answer this late (a receiver that hangs). */ delayMs?: number }

/**
 * A real HTTP receiver on 127.0.0.1. Each path answers from its own script of replies (the
 * last one repeats), 200 by default; every request is recorded with its raw body.
 */
export async function webhookReceiver (t: TapLike) {
  const received: ReceivedWebhook[] = []
  const scripts = new Map<string, Reply[]>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = req.url ?? '/'
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      const script = scripts.get(path) ?? []
      const reply = (script.length > 1 ? script.shift() : script[0]) ?? { status: 200 }
      const timer = setTimeout(() => { if (!res.destroyed) res.writeHead(reply.status, reply.headers).end('ok') }, reply.delayMs ?? 0)
      res.on('close', () => clearTimeout(timer))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const port = (server.address() as AddressInfo).port
  let n = 0
  return {
    port,
    received,
    /** A fresh path on this receiver, answering with `replies` in turn. */
    endpoint (replies: Reply[] = [{ status: 200 }]) {
      const path = `/hook-${++n}`
      scripts.set(path, [...replies])
      return { url: `http://127.0.0.1:${port}${path}`, path, hits: () => received.filter((r) => r.path === path) }
    }
  }
}

/** A clock that stands still until the test moves it (retry schedules without waiting, and no retry comes due by itself on a slow machine). */
export function movableClock () {
  let now = Date.now()
  return {
    clock: { now: () => new Date(now) },
    advance (ms: number) { now += ms }
  }
}

/**
 * Runs the fan-out until its cursor has passed the last event of the log, then the delivery
 * worker. On a shared PostgreSQL the log releases an event only once every older transaction of
 * the cluster has ended (see docs/event-log.md), so the fan-out may need a few rounds.
 */
export function webhookDrainer ({ app, database }: Pick<TestApp, 'app' | 'database'>) {
  return async function drain () {
    await eventually(async () => {
      await app.jobs.webhookFanout.drain()
      const [last] = await database.db.select({ seq: events.seq, txid: sql<string>`${events.txid}::text` }).from(events).orderBy(desc(events.txid), desc(events.seq)).limit(1)
      const [consumer] = await database.db.select().from(eventConsumers)
      if (!last) return true
      if (!consumer?.position) return false
      const at = decodePosition(consumer.position)
      return at.x === last.txid && at.s === last.seq
    }, { timeoutMs: 120_000, what: 'the webhook fan-out to reach the end of the log' })
    await app.jobs.webhookDelivery.drain()
  }
}

/**
 * Each call: a fresh workspace with one endpoint on the receiver (answering `replies`), and
 * shortcuts to make a contact (an event) and read the endpoint and its delivery log.
 */
export function webhookSetup (fresh: () => ReturnType<typeof asWorkspace>, receiver: Awaited<ReturnType<typeof webhookReceiver>>) {
  return async function setup (replies?: Reply[], eventTypes: string[] = ['contact.created']) {
    const ctx = fresh()
    const target = receiver.endpoint(replies)
    const res = await ctx.rest('POST', '/v1/webhook-endpoints', { body: { url: target.url, eventTypes, description: 'test receiver' } })
    if (res.statusCode !== 201) throw new Error(`create endpoint: ${res.statusCode} ${res.body}`)
    const endpoint = res.data
    const contact = async (name = 'Ada') => (await ctx.rest('POST', '/v1/contacts', { body: { displayName: name } })).data
    const deliveries = async () => (await ctx.rest('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`)).data.data as any[]
    const getEndpoint = async () => (await ctx.rest('GET', `/v1/webhook-endpoints/${endpoint.id}`)).data
    return { ...ctx, target, endpoint, contact, deliveries, getEndpoint }
  }
}

/**
 * What a webhook test file shares: one app on a movable clock (retry schedule 1 s, 2 s, 4 s from
 * testConfig), a receiver, a fresh workspace with an endpoint per `setup()`, and `drain()`.
 */
export async function webhookTestbed (t: TapLike, workspacePrefix: string) {
  const time = movableClock()
  const shared = await build(t, { clock: time.clock })
  const fresh = workspaces(shared, workspacePrefix)
  const receiver = await webhookReceiver(t)
  return { time, shared, fresh, receiver, setup: webhookSetup(fresh, receiver), drain: webhookDrainer(shared) }
}
