import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AdapterSendError } from '../../src/modules/channels/adapters/channel-adapter.js'

export interface Received { method: string, url: string, headers: IncomingHttpHeaders, body: string }
export interface Reply { status: number, headers?: Record<string, string>, body?: unknown }

/**
 * A throwaway provider on 127.0.0.1: records every request and answers with `reply`
 * (a function, or a fixed reply). No test reaches the internet.
 */
export async function fakeProvider (
  t: { teardown: (fn: () => void | Promise<void>) => void },
  reply: Reply | ((req: Received) => Reply)
): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      received.push(r)
      const out = typeof reply === 'function' ? reply(r) : reply
      const body = typeof out.body === 'string' ? out.body : out.body === undefined ? '' : JSON.stringify(out.body)
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers })
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, received }
}

/** A URL on 127.0.0.1 where nothing listens, for network-failure tests. */
export async function deadUrl (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

/** The AdapterSendError a send rejected with (fails the test if it resolved or threw something else). */
export async function sendError (p: Promise<unknown>): Promise<AdapterSendError> {
  try {
    await p
  } catch (err) {
    if (err instanceof AdapterSendError) return err
    throw err
  }
  throw new Error('expected send to reject with AdapterSendError')
}
