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
 * use it). `cut()` destroys every open connection (what a PostgreSQL restart does to a client)
 * and from then on accepts new connections but never answers them (an unreachable host: the
 * client's connect timeout is all that stops it waiting); `restore()` forwards again.
 */
export interface DbProxy { port: number, url: (databaseUrl: string) => string, cut: () => void, restore: () => void, close: () => Promise<void> }

export async function dbProxy (target: { host: string, port: number }): Promise<DbProxy> {
  const { createServer, connect } = await import('node:net')
  let up = true
  const sockets = new Set<import('node:net').Socket>()
  const track = (s: import('node:net').Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }
  const server = createServer((client) => {
    track(client)
    if (!up) return // accepted, never answered
    const upstream = connect(target.port, target.host)
    track(upstream)
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
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
    close () {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}
