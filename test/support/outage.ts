import type { Socket } from 'node:net'
import type { Database } from '../../src/db/client.js'

/**
 * Closes the database under a running app to simulate an outage. helper.ts closes it again at
 * teardown and PGlite throws on a second close, so later calls become no-ops.
 */
export async function closeDatabase (database: Database): Promise<void> {
  await database.close()
  database.close = async () => {}
}

/**
 * A TCP proxy in the test process between a server and PostgreSQL, so that one test can take
 * "the database" away from one server without touching the machine's PostgreSQL (other suites
 * use it).
 * - `cut()` destroys every open connection (what a PostgreSQL restart does to a client) and from
 *   then on accepts new connections but never answers them (an unreachable host: the client's
 *   connect timeout is all that stops it waiting); `restore()` forwards again.
 * - `freeze()` is a network partition: nothing passes either way and nothing is closed, so the
 *   client sees neither an error nor an answer (TCP still acknowledges, as a proxy or a hung
 *   server would); `thaw()` lets the held bytes and connections through again, as a healed
 *   network delivers what it held: bytes a client sent before giving up its connection still
 *   reach PostgreSQL, followed by that connection's end. `thaw({ sessionsLost: true })` is a
 *   partition that outlasted the server's sessions: PostgreSQL's side of each connection that
 *   was open is gone, while the client's side stays silent forever (no RST reaches it); new
 *   connections work.
 */
export interface DbProxy {
  port: number
  url: (databaseUrl: string) => string
  cut: () => void
  restore: () => void
  freeze: () => void
  thaw: (o?: { sessionsLost?: boolean }) => void
  /** Connections open through the proxy now (client side). */
  open: () => number
  close: () => Promise<void>
}

export async function dbProxy (target: { host: string, port: number }): Promise<DbProxy> {
  const { createServer, connect } = await import('node:net')
  let up = true
  let frozen = false
  const sockets = new Set<Socket>()
  const clients = new Set<Socket>()
  const pairs = new Map<Socket, Socket>()
  const held = new Set<Socket>()
  const silenced = new Set<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }
  const forward = (client: Socket) => {
    const upstream = connect(target.port, target.host)
    track(upstream)
    pairs.set(client, upstream)
    client.pipe(upstream).pipe(client)
    client.on('close', () => { upstream.destroy(); pairs.delete(client) })
    upstream.on('close', () => { if (!silenced.has(client)) client.destroy() })
  }
  const server = createServer((client) => {
    track(client)
    clients.add(client)
    client.on('close', () => { clients.delete(client); held.delete(client); silenced.delete(client) })
    if (!up) return // accepted, never answered
    if (frozen) { held.add(client); client.pause(); return }
    forward(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as import('node:net').AddressInfo).port
  return {
    port,
    url (databaseUrl) {
      const u = new URL(databaseUrl)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    cut () {
      up = false
      for (const s of sockets) s.destroy()
    },
    restore () {
      up = true
      // Connections accepted during the outage were never forwarded: drop them so clients retry.
      for (const s of sockets) s.destroy()
    },
    freeze () {
      frozen = true
      // Unpiped and paused, each side's bytes wait unread (in the socket's buffer, then the
      // kernel's), and a paused socket does not see its peer's end either.
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream); upstream.unpipe(client)
        client.pause(); upstream.pause()
      }
    },
    thaw (o = {}) {
      frozen = false
      for (const [client, upstream] of pairs) {
        if (o.sessionsLost) { silenced.add(client); pairs.delete(client); upstream.destroy(); continue }
        client.pipe(upstream); upstream.pipe(client)
      }
      for (const client of held) { held.delete(client); if (!client.destroyed) forward(client) }
    },
    open: () => clients.size,
    close () {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}
