// npm run bench:imports: bulk contact imports through the real HTTP API against `psql \copy` of
// the same file into a bare table, in the same run, on the local PostgreSQL (a database of its
// own, dropped at the end). Reports rows/s, the ratio to \copy, and the server's peak RSS.
// Knobs: BENCH_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres), SIZES ("100000,1000000"),
// RERUN (true: import the first size a second time, all unchanged), BENCH_PORT (3600: the server's
// port; it must be free), SERVER_ARGS (extra node flags for the server, e.g. "--cpu-prof
// --cpu-prof-dir=/tmp/prof"), WRITE_RESULTS (true: replace the imports section of bench/RESULTS.md),
// RECORDS (100000: interactions, and half as many promises, imported after the first contacts file
// and naming its contacts by externalId; 0 skips them), RECORD_TYPES ("interactions,promises": which
// of the two; one alone profiles it alone).
import { spawnSync } from 'node:child_process'
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import postgres from 'postgres'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { benchRoot, benchToken, startBenchServer } from './server.js'

const env = process.env
const adminUrl = env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const sizes = (env.SIZES ?? '100000,1000000').split(',').map(Number)
const rerun = env.RERUN !== 'false'
const records = Number(env.RECORDS ?? 100000)
const recordTypes = (env.RECORD_TYPES ?? 'interactions,promises').split(',')
const dbName = `rapport_bench_imports_${process.pid}`
const url = adminUrl.replace(/\/[^/]*$/, `/${dbName}`)
const port = Number(env.BENCH_PORT ?? 3600)
const log = (m: string) => process.stderr.write(m + '\n')
const dir = mkdtempSync(join(tmpdir(), 'rapport-bench-imports-'))

type ImportType = 'contacts' | 'interactions' | 'promises'
/** Columns and row i of each file (interactions and promises name contact `ext-${i % contacts}`). */
const FILES: Record<ImportType, { columns: string[], line: (i: number, contacts: number) => string }> = {
  contacts: {
    columns: ['externalId', 'givenName', 'familyName', 'email', 'phone', 'company', 'title', 'tags'],
    line: (i) => `ext-${i},Given${i},Family${i % 5000},person${i}@example.com,+1415${String(2000000 + (i % 7000000)).padStart(7, '0')},"Company ${i % 1000}, Inc.",Title ${i % 50},tag${i % 10};tag${i % 7}`
  },
  interactions: {
    columns: ['externalId', 'contactExternalId', 'direction', 'kind', 'subject', 'body', 'occurredAt'],
    line: (i, contacts) => `int-${i},ext-${i % contacts},${i % 2 ? 'outbound' : 'inbound'},email,Re: order ${i % 997},"Thanks for your message ${i}, we will look into it.",2026-0${1 + (i % 9)}-1${i % 10}T10:${String(i % 60).padStart(2, '0')}:00Z`
  },
  promises: {
    columns: ['externalId', 'contactExternalId', 'description', 'dueAt', 'status', 'reason'],
    line: (i, contacts) => `prm-${i},ext-${i % contacts},Send the quote ${i},2031-0${1 + (i % 9)}-15T12:00:00Z,${i % 4 === 3 ? 'cancelled,Deal lost' : 'open,'}`
  }
}

/** A CSV of n rows, written as a stream (the generator's memory stays flat too). */
async function writeCsv (type: ImportType, n: number, contacts = n): Promise<string> {
  const path = join(dir, `${type}-${n}.csv`)
  const out = createWriteStream(path)
  out.write(FILES[type].columns.join(',') + '\n')
  for (let i = 0; i < n; i++) {
    if (!out.write(FILES[type].line(i, contacts) + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  out.end()
  await finished(out)
  return path
}

function psql (args: string[]) {
  const u = new URL(url)
  const run = spawnSync('psql', ['-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', '-d', dbName, '-v', 'ON_ERROR_STOP=1', ...args], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`psql failed: ${run.stderr}`)
  return run.stdout
}

/** Seconds for `\copy` of the file into a bare table of text columns (no index, no validation). */
function copySeconds (type: ImportType, path: string, n: number): number {
  const table = `bare_${type}_${n}`
  psql(['-c', `create unlogged table if not exists ${table} (${FILES[type].columns.map((c) => `"${c}" text`).join(', ')})`])
  psql(['-c', `truncate ${table}`])
  const start = process.hrtime.bigint()
  psql(['-c', `\\copy ${table} from '${path}' with (format csv, header true)`])
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  psql(['-c', `drop table ${table}`])
  return seconds
}

/** The server's resident memory in MB (NaN once it is gone: the run then fails on its next request). */
const rssOf = (pid: number, field: 'VmRSS' | 'VmHWM') => {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

/** CPU seconds (user + system) a process has used so far (0 once it is gone). */
const cpuOf = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, in clock ticks of 1/100 s
  } catch {
    return 0
  }
}
/** CPU seconds of the PostgreSQL backends serving the bench database, per backend pid. */
async function backendCpu (): Promise<Map<number, number>> {
  const rows = await admin<Array<{ pid: number }>>`select pid from pg_stat_activity where datname = ${dbName}`
  return new Map(rows.map((r) => [r.pid, cpuOf(r.pid)]))
}
const cpuSince = (before: Map<number, number>, after: Map<number, number>) => [...after].reduce((sum, [pid, cpu]) => sum + cpu - (before.get(pid) ?? 0), 0)

interface Run { rows: number, seconds: number, uploadSeconds: number, rowsPerSecond: number, peakRssMb: number, startRssMb: number, counts: Record<string, number>, serverCpu: number, dbCpu: number, load: [number, number] }

/** Upload through POST /v1/imports (streamed), then poll the job until it ends; RSS sampled all along. */
async function importFile (pid: number, auth: string, path: string, rows: number, type: ImportType = 'contacts'): Promise<Run> {
  const startRssMb = rssOf(pid, 'VmRSS')
  const cpu0 = cpuOf(pid)
  const db0 = await backendCpu()
  const load0 = loadavg()[0]
  let peakRssMb = startRssMb
  const sampler = setInterval(() => { peakRssMb = Math.max(peakRssMb, rssOf(pid, 'VmRSS')) }, 100)
  const start = process.hrtime.bigint()
  const res = await fetch(`http://127.0.0.1:${port}/v1/imports?type=${type}${type === 'contacts' ? '&upsertOn=externalId' : ''}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'text/csv' },
    body: Readable.toWeb(createReadStream(path)) as ReadableStream,
    duplex: 'half'
  } as RequestInit)
  const job = await res.json() as { id: string }
  if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${JSON.stringify(job)}`)
  const uploadSeconds = Number(process.hrtime.bigint() - start) / 1e9
  let body: { status: string, counts: Record<string, number> }
  for (;;) {
    body = await (await fetch(`http://127.0.0.1:${port}/v1/imports/${job.id}`, { headers: { authorization: auth } })).json() as typeof body
    if (!['receiving', 'queued', 'running'].includes(body.status)) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  clearInterval(sampler)
  if (body.status !== 'completed') throw new Error(`import ended ${body.status}: ${JSON.stringify(body)}`)
  return { rows, seconds, uploadSeconds, rowsPerSecond: rows / seconds, peakRssMb, startRssMb, counts: body.counts, serverCpu: cpuOf(pid) - cpu0, dbCpu: cpuSince(db0, await backendCpu()), load: [load0, loadavg()[0]] }
}

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
await admin.unsafe(`create database ${dbName}`)
let server: Awaited<ReturnType<typeof startBenchServer>> | undefined
const lines: string[] = []
try {
  const db = await openDatabase({ databaseUrl: url, poolMax: 1 })
  await runMigrations(db)
  await db.close()
  server = await startBenchServer(url, port, { WORKER_POLL_MS: '100' }, (env.SERVER_ARGS ?? '').split(' ').filter(Boolean))
  const auth = `Bearer ${await benchToken()}`
  const results: Array<{ label: string, run: Run, copy: number, bytes: number }> = []
  for (const [i, n] of sizes.entries()) {
    log(`generating ${n} rows…`)
    const path = await writeCsv('contacts', n)
    const bytes = statSync(path).size
    log(`psql \\copy of ${n} rows…`)
    const copy = copySeconds('contacts', path, n)
    log(`  ${(n / copy).toFixed(0)} rows/s`)
    log(`import of ${n} rows through the API…`)
    const run = await importFile(server.pid!, auth, path, n)
    log(`  ${run.rowsPerSecond.toFixed(0)} rows/s, peak RSS ${run.peakRssMb.toFixed(0)} MB, CPU server ${run.serverCpu.toFixed(1)} s, PostgreSQL ${run.dbCpu.toFixed(1)} s, load ${run.load.map((l) => l.toFixed(1)).join(' → ')}, ${JSON.stringify(run.counts)}`)
    results.push({ label: `${n.toLocaleString('en')} contacts (${run.counts.created.toLocaleString('en')} new)`, run, copy, bytes })
    if (rerun && i === 0) {
      log(`re-import of the same ${n} rows (all unchanged)…`)
      const again = await importFile(server.pid!, auth, path, n)
      log(`  ${again.rowsPerSecond.toFixed(0)} rows/s, CPU server ${again.serverCpu.toFixed(1)} s, PostgreSQL ${again.dbCpu.toFixed(1)} s, ${JSON.stringify(again.counts)}`)
      results.push({ label: `${n.toLocaleString('en')} again (all unchanged)`, run: again, copy, bytes })
    }
    rmSync(path)
    if (i === 0 && records > 0) {
      // Interactions and promises naming the contacts just imported (set-based too, with their rules).
      for (const [type, count] of [['interactions', records], ['promises', Math.round(records / 2)]] as const) {
        if (!recordTypes.includes(type)) continue
        const file = await writeCsv(type, count, n)
        const fileCopy = copySeconds(type, file, count)
        log(`import of ${count} ${type} through the API…`)
        const run = await importFile(server.pid!, auth, file, count, type)
        log(`  ${run.rowsPerSecond.toFixed(0)} rows/s, CPU server ${run.serverCpu.toFixed(1)} s, PostgreSQL ${run.dbCpu.toFixed(1)} s, ${JSON.stringify(run.counts)}`)
        results.push({ label: `${count.toLocaleString('en')} ${type} (${run.counts.created.toLocaleString('en')} new)`, run, copy: fileCopy, bytes: statSync(file).size })
        rmSync(file)
      }
    }
  }
  const hwm = rssOf(server.pid!, 'VmHWM')
  lines.push(
    `Run ${new Date().toISOString()} by \`npm run bench:imports\` on this machine (${(await import('node:os')).cpus().length} cores, server, PostgreSQL and the client on the same host).`,
    `Rapport on Node ${process.version}, PostgreSQL through postgres.js; one server process, one import worker. Each file is streamed to \`POST /v1/imports?type=contacts&upsertOn=externalId\` (or \`type=interactions\` / \`type=promises\`, naming the contacts of the first file by externalId; a quarter of the promises arrive cancelled);`,
    'the time runs from the first byte sent to the job `completed` (upload and COPY staging, validation with the API\'s zod schemas (and libphonenumber for contacts), set-based writes in batches of `IMPORT_BATCH_ROWS` with the single-record rules, per-row outcomes, one event per record; promise verdicts go through the state machine row by row).',
    '`\\copy` is `psql \\copy` of the same file into an unlogged table of text columns with no index: the floor.',
    '',
    'CPU columns: seconds of CPU per 1,000 rows used by the server process and by the PostgreSQL backends of the bench database during the import (the wall-clock figures depend on what else the 2 cores run; these much less). Load: the 1-minute load average at the start → end of the import.',
    '',
    '| file | rows | MB | API rows/s | upload s | total s | `\\copy` rows/s | ratio to `\\copy` | server RSS before → peak (MB) | server CPU s / 1k rows | PostgreSQL CPU s / 1k rows | load | counts |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...results.map(({ label, run, copy, bytes }) => `| ${label} | ${run.rows} | ${(bytes / 1e6).toFixed(0)} | ${run.rowsPerSecond.toFixed(0)} | ${run.uploadSeconds.toFixed(1)} | ${run.seconds.toFixed(1)} | ${(run.rows / copy).toFixed(0)} | ${(run.rowsPerSecond / (run.rows / copy)).toPrecision(2)} | ${run.startRssMb.toFixed(0)} → ${run.peakRssMb.toFixed(0)} | ${(1000 * run.serverCpu / run.rows).toFixed(3)} | ${(1000 * run.dbCpu / run.rows).toFixed(3)} | ${run.load[0].toFixed(1)} → ${run.load[1].toFixed(1)} | ${Object.entries(run.counts).filter(([k]) => k !== 'processed').map(([k, v]) => `${k} ${v}`).join(', ')} |`),
    '',
    `Server peak RSS over the whole run (VmHWM): ${hwm.toFixed(0)} MB.`
  )
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM')
    await new Promise((resolve) => server!.once('exit', resolve))
  }
  await admin.unsafe(`drop database if exists ${dbName} with (force)`)
  await admin.end()
  rmSync(dir, { recursive: true, force: true })
}

process.stdout.write(lines.join('\n') + '\n')
if (env.WRITE_RESULTS === 'false') process.exit(0)
const section = ['<!-- imports:start -->', '## Imports', '', ...lines, '<!-- imports:end -->'].join('\n')
const resultsPath = join(benchRoot, 'bench/RESULTS.md')
const current = readFileSync(resultsPath, 'utf8')
writeFileSync(resultsPath, /<!-- imports:start -->[\s\S]*<!-- imports:end -->/.test(current)
  ? current.replace(/<!-- imports:start -->[\s\S]*<!-- imports:end -->/, section)
  : current.trimEnd() + '\n\n' + section + '\n')
