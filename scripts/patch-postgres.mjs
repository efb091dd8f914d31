// Runs on `npm install` / `npm ci` (the root package's postinstall).
//
// postgres.js 3.4.9 (the latest release) mishandles a connection that PostgreSQL
// drops under load (a restart, a failover, an idle-session killer): the process
// can crash, a pool slot can be lost for good until requests wait forever, and a
// late query can reach another caller's session. test/faults-backend-terminated
// .test.ts terminates the server's backends every 150 ms while requests run; it
// found defects 1-7 below (crash, hang, or a request failing after the outage) and
// passes only with them fixed; a review of the driver's code around them found the
// rest (8-10) and the savepoint case of 6. Each fix is small and local; drop it when
// a release fixes the same thing (the script then stops on the changed code).
//
// 1. nextWrite: a query sent on a connection whose socket has just closed is
//    written from setImmediate, and nextWrite dereferences the socket that
//    closed() set to null: an uncaught TypeError (upstream porsager/postgres#1208,
//    #1154; fix proposed in PR #1209, not released). The guard settles the queries
//    of that write with CONNECTION_CLOSED instead (a rejection the API turns into a
//    503), leaving alone a reconnect's first query. It answers true ("not full")
//    where the PR answers false: the pool would otherwise move the closed
//    connection to its `full` queue, which only an answer from the server empties,
//    and lose it for good. The connection stays in the pool's closed queue, where
//    closed() put it, and reconnects on its next use.
// 2. fetchArrayTypes: a new connection reads the array types before running its
//    first query, from ReadyForQuery, without a catch; when the connection closes
//    meanwhile, that promise's rejection is unhandled. The failure has already been
//    given to the waiting query (errored() rejects it), so it only needs catching.
// 3. reserve(): a reservation waits in the pool's queue and is also the connecting
//    connection's first "query"; when that connect fails, the reservation is
//    rejected but stays queued, and the next connection to come free is handed to
//    it, that is, to nobody: one pool slot lost for good at each such failure, until
//    every request waits forever. A rejected reservation now leaves the queue.
// 4. onclose(): a connection that closes reconnects at once for the first waiting
//    query, taken off the queue. A reservation is served from the queue once the
//    new connection is ready (its first "query" is dropped for the types fetch), so
//    taken off, it was never served: that reserve() waited forever. It stays queued.
// 5. A reserved connection that closes goes back to the pool (onclose), but its
//    holder's handle still points at it: queries the handle had queued behind a
//    busy connection waited forever; later ones were sent on whatever the pool had
//    made of the connection meanwhile (a socket-less one, or a fresh session
//    serving another caller); and release() put it in the open queue even without
//    a socket, where every query given to it failed. Now the handle knows it lost
//    the connection: queued and later queries fail with CONNECTION_CLOSED, and
//    release() leaves the connection to the pool. A query on a handle after its own
//    release() fails too (RESERVED_RELEASED: not a sign that the database is gone),
//    where it used to run on the pool, outside whatever the holder had set up.
// 6. The same for a transaction (sql.begin), savepoints included: after its
//    connection closed, the transaction's ROLLBACK, a late query or the next
//    savepoint could reach a fresh session of another caller on the reconnected
//    connection. They fail with CONNECTION_CLOSED, and so do the queries it had
//    queued behind a busy connection (they waited forever).
// 7. A connection that closed while a query was failing (PostgreSQL sends the
//    error, 57P01 when a backend is terminated, then closes) kept that error and
//    that query across the reconnect: the new session's first ReadyForQuery
//    reported the old error to the new caller. A new session now starts clean; a
//    query of the old one still waiting fails with CONNECTION_CLOSED.
// 8. closed() and terminate() cancelled a pending flush but kept its timer and
//    its bytes: the next write (the reconnect's startup message) was appended to
//    the old session's bytes and never flushed, and the reconnect timed out. Both
//    are dropped now.
// 9. closed() after a socket error did not fail the queries sent between the
//    error and the close: they waited until a later reconnect, if any. It does now
//    (a query already failed is not failed twice: a settled promise ignores it).
// 10. Not a defect but a missing option: a connection whose server stops
//    answering without closing (a network partition, a hung proxy or server)
//    kept its queries waiting until TCP gave up, minutes later, or forever behind
//    a proxy that still acknowledges. `answer_timeout` (milliseconds; off unless
//    given) fails the queries of a connection that has received nothing for that
//    long while it owes answers, with ANSWER_TIMEOUT, and destroys the socket, so
//    the pool opens a fresh connection. The
//    deadline runs from the write that makes the connection owe answers and moves
//    with every read; it stops once nothing is owed, so an idle connection, a LISTEN
//    waiting for notifications and a COPY FROM STDIN waiting for our data are never
//    given up. It must exceed the server's statement_timeout, which bounds how long a
//    live server stays silent (src/config.ts derives it so; test/faults-partition
//    .test.ts, test/db-driver-patch.test.ts).
//
// The script is idempotent and fails loudly when the driver's code no longer
// matches, so a driver upgrade cannot silently drop a fix. The marker carries a
// fingerprint of the fixes, and each patched file keeps its original beside it
// (.orig), so a changed list of fixes is applied again from the original.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'

const MARKER_PREFIX = '/* rapport: patched (scripts/patch-postgres.mjs)'

const fixes = [
  {
    file: 'connection.js',
    name: '1: nextWrite on a closed socket',
    original: `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`,
    patched: `  function nextWrite(fn) {
    if (!socket) {
      const lost = Errors.connection('CONNECTION_CLOSED', options)
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      query && queryError(query, lost)
      while (sent.length) queryError(sent.shift(), lost)
      query = null
      return true
    }
    const x = socket.write(chunk, fn)`
  },
  {
    file: 'connection.js',
    name: '8: pending flush kept by terminate()',
    original: `    clearImmediate(nextWriteTimer)
    if (socket) {`,
    patched: `    clearImmediate(nextWriteTimer)
    chunk = nextWriteTimer = null
    if (socket) {`
  },
  {
    file: 'connection.js',
    name: '8: pending flush kept by closed()',
    original: `    clearImmediate(nextWriteTimer)
    socket.removeListener('data', data)`,
    patched: `    clearImmediate(nextWriteTimer)
    chunk = nextWriteTimer = null
    socket.removeListener('data', data)`
  },
  {
    file: 'connection.js',
    name: '9: queries left waiting by a close after an error',
    original: `    !hadError && (query || sent.length) && error(`,
    // An if, not \`(…) && error(…)\`: a line opening with a parenthesis would continue
    // the \`return reconnect()\` above it (no semicolons in this code base).
    patched: `    if (query || sent.length) error(`
  },
  {
    file: 'connection.js',
    name: '7: state of the previous session kept across a reconnect',
    original: `  function connected() {
    try {
      statements = {}`,
    patched: `  function connected() {
    const lost = (query || sent.length) && Errors.connection('CONNECTION_CLOSED', options)
    query && queryError(query, lost)
    while (sent.length) queryError(sent.shift(), lost)
    query = results = errorResponse = null
    result = new Result()
    rows = 0
    try {
      statements = {}`
  },
  {
    file: 'connection.js',
    name: '2: unhandled fetchArrayTypes rejection',
    original: `        return fetchArrayTypes()
`,
    patched: `        return fetchArrayTypes().catch(() => { /* already given to the waiting query */ })
`
  },
  {
    file: 'index.js',
    name: '3: rejected reservation left in the queue',
    original: `        const query = { reserve: resolve, reject }
`,
    patched: `        const query = { reserve: resolve, reject: (error) => { queries.remove(query); reject(error) } }
`
  },
  {
    file: 'index.js',
    name: '4, 5: reservation taken off the queue by a reconnect; queries queued on a closed reserved connection',
    original: `    c.reserved = null
    c.onclose && (c.onclose(e), c.onclose = null)
    options.onclose && options.onclose(c.id)
    queries.length && connect(c, queries.shift())
  }`,
    patched: `    c.reserved = null
    const stranded = c.reservedQueue
    c.reservedQueue = null
    while (stranded && stranded.length) stranded.shift().reject(e)
    c.onclose && (c.onclose(e), c.onclose = null)
    options.onclose && options.onclose(c.id)
    if (queries.length) {
      const query = queries.shift()
      query.reserve && queries.push(query)
      connect(c, query)
    }
  }`
  },
  {
    file: 'index.js',
    name: '5: reserved handle used after its connection closed or its release',
    original: `    c.reserved.release = true

    const sql = Sql(handler)
    sql.release = () => {
      c.reserved = null
      onopen(c)
    }

    return sql

    function handler(q) {
      c.queue === full`,
    patched: `    c.reserved.release = true
    c.reservedQueue = queue
    const owner = c.reserved
    let released = false

    const sql = Sql(handler)
    sql.release = () => {
      released = true
      if (c.reserved !== owner) return
      c.reserved = null
      c.reservedQueue = null
      onopen(c)
    }

    return sql

    function handler(q) {
      if (released) return q.reject(Errors.generic('RESERVED_RELEASED', 'The reserved connection was released'))
      if (c.reserved !== owner) return q.reject(Errors.connection('CONNECTION_CLOSED', options))
      c.queue === full`
  },
  {
    file: 'index.js',
    name: '6: the transaction owner, taken once',
    original: `    let savepoints = 0
      , connection
      , prepare = null
`,
    patched: `    let savepoints = 0
      , connection
      , prepare = null
      , owner
`
  },
  {
    file: 'index.js',
    name: '6: queries queued by a transaction whose connection closed',
    original: `        new Promise((_, reject) => connection.onclose = reject)`,
    patched: `        new Promise((_, reject) => connection.onclose = e => {
          reject(e)
          while (queries.length) queries.shift().reject(e)
        })`
  },
  {
    file: 'index.js',
    name: '6: transaction scope (or savepoint) on a connection that closed',
    original: `    async function scope(c, fn, name) {
      const sql = Sql(handler)`,
    patched: `    async function scope(c, fn, name) {
      name || (owner = c.reserved)
      const sql = Sql(handler)`
  },
  {
    file: 'index.js',
    name: '6: transaction query after its connection closed',
    original: `        q.catch(e => uncaughtError || (uncaughtError = e))
        c.queue === full`,
    patched: `        q.catch(e => uncaughtError || (uncaughtError = e))
        if (!owner || c.reserved !== owner) return q.reject(Errors.connection('CONNECTION_CLOSED', options))
        c.queue === full`
  },
  {
    file: 'connection.js',
    name: '10: answer timeout (state)',
    original: `    , final = null`,
    patched: `    , final = null
    , answerTimer = null
    , answerReads = 0`
  },
  {
    file: 'connection.js',
    name: '10: answer timeout (armed by a write that makes the connection owe answers)',
    original: `    const x = socket.write(chunk, fn)`,
    patched: `    const x = socket.write(chunk, fn)
    options.answer_timeout && !answerTimer && (answerTimer = setTimeout(answerTimedOut, options.answer_timeout))`
  },
  {
    file: 'connection.js',
    name: '10: answer timeout (moved by every read)',
    original: `  function data(x) {`,
    patched: `  function answerTimedOut() {
    // A COPY FROM STDIN waits for our own data: keep watching until it is over.
    if (stream) return answerTimer.refresh()
    if (!socket || !(query || sent.length)) return answerTimer = null
    // Data already waiting in this turn of the event loop (one that was blocked for long) is
    // read first: only a connection that still has said nothing is given up.
    const seen = answerReads
    setImmediate(() => {
      if (answerReads !== seen || !socket) return
      if (!(query || sent.length)) return answerTimer = null
      answerLost()
    })
  }

  function answerLost() {
    // The close is handled here and now: a destroyed socket emits 'close' only on a later turn
    // of the event loop, and a query given to the connection meanwhile would be written to it.
    // Not counted as a failed connect: the pool's reconnect backoff stays as it was.
    const dead = socket
    error(Errors.connection('ANSWER_TIMEOUT', options, socket))
    query = null
    closed(false)
    dead.on('error', noop)
    dead.destroy()
  }

  function data(x) {
    answerReads++
    answerTimer && answerTimer.refresh()`
  },
  {
    file: 'connection.js',
    name: '10: answer timeout (cleared once nothing is owed)',
    original: `      incoming = incoming.subarray(length + 1)
      remaining = 0
      incomings = null
    }
  }`,
    patched: `      incoming = incoming.subarray(length + 1)
      remaining = 0
      incomings = null
    }
    answerTimer && !query && !sent.length && (clearTimeout(answerTimer), answerTimer = null)
  }`
  },
  {
    file: 'connection.js',
    name: '10: answer timeout (cleared on close)',
    original: `    connectTimer.cancel()

    socket.removeAllListeners()`,
    patched: `    connectTimer.cancel()
    answerTimer && (clearTimeout(answerTimer), answerTimer = null)

    socket.removeAllListeners()`
  },
  {
    file: 'index.js',
    name: '10: answer timeout (the option)',
    original: `    socket          : o.socket,`,
    patched: `    socket          : o.socket,
    answer_timeout  : o.answer_timeout,`
  }
]

const require = createRequire(import.meta.url)
let packageRoot
try {
  // 'postgres' resolves to <root>/cjs/src/index.js (package.json is not exported).
  packageRoot = dirname(dirname(dirname(require.resolve('postgres'))))
} catch (error) {
  // A partial install without the driver: nothing to patch.
  if (error.code === 'MODULE_NOT_FOUND') process.exit(0)
  throw error
}

const fingerprint = createHash('sha256').update(JSON.stringify(fixes)).digest('hex').slice(0, 12)
const MARKER = `${MARKER_PREFIX} ${fingerprint} */`

for (const folder of ['src', 'cjs/src', 'cf/src']) {
  for (const name of new Set(fixes.map((fix) => fix.file))) {
    const file = join(packageRoot, folder, name)
    if (!existsSync(file)) continue
    let source = readFileSync(file, 'utf8')
    if (source.startsWith(MARKER)) continue
    if (source.startsWith(MARKER_PREFIX)) {
      // Patched by another version of this list: start again from the driver's own file.
      if (!existsSync(`${file}.orig`)) {
        console.error(`patch-postgres: ${file} was patched by an older version of this script; reinstall the driver (rm -rf node_modules/postgres && npm install)`)
        process.exit(1)
      }
      source = readFileSync(`${file}.orig`, 'utf8')
    } else {
      writeFileSync(`${file}.orig`, source)
    }
    for (const fix of fixes.filter((f) => f.file === name)) {
      if (source.split(fix.original).length !== 2) {
        console.error(`patch-postgres: ${file} no longer has the code of fix ${fix.name}; check whether upstream fixed it and update scripts/patch-postgres.mjs`)
        process.exit(1)
      }
      source = source.replace(fix.original, fix.patched)
    }
    writeFileSync(file, `${MARKER}\n${source}`)
  }
}
