import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

interface TapLike { teardown: (fn: () => unknown) => void }

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
