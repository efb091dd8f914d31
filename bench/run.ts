// npm run bench: Rapport's hot paths under load on the local PostgreSQL, and (PEERS=…) the peers
// of ../shared/bench/peers in the same run, so that every figure is a ratio taken minutes apart.
// Knobs: BENCH_DATABASE_URL, BENCH_CONTACTS (100000), ROUNDS (2), DURATION (10), WARMUP (3),
// CONNECTIONS (50), PEERS ("" | "baseline platformatic postgraphile"), LOADER ("wrk" when wrk and the
// peers' replay.lua are there, the peers' own load generator; else "autocannon"), QUERIES ("Q1 Q3": only
// the queries whose names start with these), SERVER_ARGS (extra node flags for the server, e.g. --cpu-prof).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { encodeCursor } from '../src/lib/cursor.js'
import { measure, type Measure, type QuerySpec } from './load.js'
import { seed } from './seed.js'
import { benchRoot, benchToken, startBenchServer } from './server.js'
import { measureWithWrk, wrkAvailable } from './wrk.js'

const env = process.env
const url = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/rapport_bench'
const contacts = Number(env.BENCH_CONTACTS ?? 100_000)
const rounds = Number(env.ROUNDS ?? 2)
const load = { connections: Number(env.CONNECTIONS ?? 50), duration: Number(env.DURATION ?? 10), warmup: Number(env.WARMUP ?? 3) }
const port = 3500
const peersDir = fileURLToPath(new URL('../../shared/bench/peers/', import.meta.url))
const log = (m: string) => process.stderr.write(m + '\n')
const replayScript = peersDir + 'replay.lua'
const loader = env.LOADER ?? (wrkAvailable(replayScript) ? 'wrk' : 'autocannon')

async function ensureDatabase () {
  const admin = postgres(url.replace(/\/[^/]+$/, '/postgres'), { max: 1, onnotice: () => {} })
  const name = new URL(url).pathname.slice(1)
  const [exists] = await admin`select 1 from pg_database where datname = ${name}`
  if (!exists) await admin.unsafe(`create database ${name}`)
  await admin.end()
  const db = await openDatabase({ databaseUrl: url, poolMax: 1 })
  await runMigrations(db)
  await db.close()
}

// The peers' four queries, asked the Rapport way (pseudo-random rows, the same spread).
const pick = (i: number, n: number) => 1 + ((i * 7919) % n)
const cid = (n: number) => 'con_' + String(n).padStart(26, '0')
const graphQ3 = 'query ($id: ID!) { contact(id: $id) { id displayName emails { address } company tags timeline(first: 20) { nodes { id channelId direction body occurredAt } } } }'
// Issue 7's second GraphQL shape: a page of 50 contacts, each with nested connections (loaders batch them).
const graphPage = 'query ($after: String) { contacts(first: 50, after: $after) { pageInfo { endCursor } nodes { id displayName company timeline(first: 3) { nodes { id direction occurredAt } } promises(first: 3) { nodes { id status dueAt } } } } }'
const queries: QuerySpec[] = [
  { name: 'Q1 contact by id (REST)', path: (i) => `/v1/contacts/${cid(pick(i, contacts))}` },
  { name: 'Q2 page of 50, keyset (REST)', path: (i) => `/v1/contacts?limit=50&after=${encodeCursor({ id: cid(pick(i, contacts)) })}` },
  { name: 'Q3 contact timeline, 20 latest (REST)', path: (i) => `/v1/contacts/${cid(pick(i, Math.floor(contacts / 4)))}/timeline?limit=20` },
  { name: 'Q3 contact + 20 interactions (GraphQL)', method: 'POST', path: () => '/graphql', body: (i) => JSON.stringify({ query: graphQ3, variables: { id: cid(pick(i, Math.floor(contacts / 4))) } }) },
  { name: 'Q2 page of 50 + nested timeline and promises (GraphQL)', method: 'POST', path: () => '/graphql', body: (i) => JSON.stringify({ query: graphPage, variables: { after: encodeCursor({ id: cid(pick(i, contacts)) }) } }) },
  { name: 'Q4 create interaction (REST)', method: 'POST', path: () => '/v1/interactions', body: (i) => JSON.stringify({ contactId: cid(pick(i, contacts)), direction: 'inbound', kind: 'note', body: `bench: ${i}` }) }
]

const only = (env.QUERIES ?? '').split(/[\s,]+/).filter(Boolean)
const selected = only.length ? queries.filter((q) => only.some((o) => q.name.startsWith(o))) : queries

function runPeers (): Measure[] {
  if (!env.PEERS) return []
  if (!existsSync(peersDir + 'node_modules')) spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peersDir, stdio: 'inherit' })
  const results = peersDir + '.run/rapport-bench.jsonl'
  const run = spawnSync('./run-peers.sh', [], {
    cwd: peersDir, stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, PEERS: env.PEERS, ROUNDS: String(rounds), DURATION: String(load.duration), WARMUP: String(load.warmup), CONNECTIONS: String(load.connections), BULK: '0', RESULTS: results }
  })
  if (run.status !== 0 || !existsSync(results)) throw new Error('the peer harness failed (see its README: wrk, the peerbench database)')
  const names: Record<string, string> = { Q1: 'Q1 contact by id', Q2: 'Q2 page of 50, keyset', Q3: 'Q3 contact + 20 interactions', Q4: 'Q4 create interaction' }
  return readFileSync(results, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((l) => !l.kind && !l.note && l.rps !== undefined)
    .map((l) => ({ target: l.target, query: names[l.query] ?? l.query, round: l.round, rps: Math.round(l.rps), p50: l.p50_ms ?? NaN, p99: l.p99_ms, errors: l.socket_errors ?? 0, non2xx: l.bad ?? 0 }))
}

function report (rows: Measure[], rssMb: number[]): string {
  const byRound = (r: number) => rows.filter((x) => x.round === r)
  const lines = [
    '# Benchmark results', '',
    `Run ${new Date().toISOString()} by \`npm run bench\` on this machine (2 cores shared by load, server and PostgreSQL).`,
    `Rapport on Node ${process.version}, PostgreSQL through postgres.js (pool 10), auth + validation + RLS + logging (warn) on.`,
    `Data: ${contacts.toLocaleString('en-US')} contacts per workspace in 2 workspaces, the peers' shape. Load: ${loader === 'wrk' ? 'wrk (one thread, the peers\' replay.lua), the same client as the peers' : 'autocannon'}, ${load.connections} connections, ${load.warmup} s warm-up discarded, ${load.duration} s measured, ${rounds} rounds.`,
    `Server RSS after each round (MB): ${rssMb.map((m) => m.toFixed(0)).join(', ')}.`, '',
    '| target | query | ' + [...Array(rounds).keys()].map((r) => `r${r + 1} req/s | r${r + 1} p50 | r${r + 1} p99`).join(' | ') + ' | errors |',
    '|---|---|' + [...Array(rounds).keys()].map(() => '---:|---:|---:').join('|') + '|---:|'
  ]
  const keys = [...new Set(rows.map((r) => `${r.target}\u0000${r.query}`))]
  for (const k of keys) {
    const [target, query] = k.split('\u0000')
    const cells = [...Array(rounds).keys()].map((r) => {
      const m = byRound(r + 1).find((x) => x.target === target && x.query === query)
      return m ? `${m.rps.toLocaleString('en-US')} | ${m.p50} | ${m.p99}` : '– | – | –'
    })
    const errors = rows.filter((x) => x.target === target && x.query === query).reduce((s, x) => s + x.errors + x.non2xx, 0)
    lines.push(`| ${target} | ${query} | ${cells.join(' | ')} | ${errors} |`)
  }
  return lines.join('\n') + '\n'
}

log(`database ${url}: migrating and seeding ${contacts} contacts per workspace…`)
await ensureDatabase()
const t0 = Date.now()
await seed(url, contacts)
log(`seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
// Production settings, except that the rate limit (checked on every request, as in production)
// is set out of reach: one benchmark token sends far more than a partner's 1,000 a minute.
const server = await startBenchServer(url, port, { RATE_LIMIT_MAX: '1000000000' }, (env.SERVER_ARGS ?? '').split(' ').filter(Boolean))
const headers = { authorization: `Bearer ${await benchToken('2h')}` }
const rows: Measure[] = []
const rss: number[] = []
try {
  for (let round = 1; round <= rounds; round++) {
    for (const q of selected) {
      log(`round ${round}: ${q.name}`)
      rows.push(loader === 'wrk'
        ? measureWithWrk('rapport', `http://127.0.0.1:${port}`, headers, q, { ...load, round, replayScript, workDir: benchRoot + 'bench/.run' })
        : await measure('rapport', `http://127.0.0.1:${port}`, headers, q, { ...load, round }))
    }
    const status = readFileSync(`/proc/${server.pid}/status`, 'utf8')
    rss.push(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)
  }
} finally {
  server.kill('SIGTERM')
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  await sql`delete from interactions where body like 'bench: %'`
  // As the peers' harness does after its writes: the next run reads a table without dead rows.
  await sql`vacuum analyze interactions`
  await sql.end()
}
rows.push(...runPeers())
const md = report(rows, rss)
// Other benchmarks (bench/imports.ts) keep their own marked sections of RESULTS.md: carry them over.
const resultsFile = new URL('RESULTS.md', import.meta.url)
const previous = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : ''
const sections = previous.match(/<!-- (\w+):start -->[\s\S]*?<!-- \1:end -->/g) ?? []
writeFileSync(resultsFile, [md, ...sections].join('\n') + (sections.length ? '\n' : ''))
process.stdout.write(md)
const failed = rows.filter((r) => r.target === 'rapport' && (r.errors > 0 || r.non2xx > 0))
if (failed.length > 0) {
  log(`errors in ${failed.map((f) => f.query).join(', ')}`)
  process.exit(1)
}
