#!/usr/bin/env -S node --import tsx
// Uploads a CSV/NDJSON file as an import job and follows it to the end:
//   npm run import -- contacts.csv [--type contacts|interactions|promises] [--upsert-on email] [--url http://127.0.0.1:3000] [--token …]
// Exits 0 when every row imported, 1 when some rows failed (see the errors report), 2 on usage or transport errors.
import { createReadStream, statSync } from 'node:fs'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'

const usage = 'Usage: npm run import -- <file.csv|file.ndjson[.gz]> [--type contacts|interactions|promises] [--upsert-on externalId|email|phone (contacts; default email)] [--dry-run] [--delimiter ;] [--mapping \'{"E-mail":"email"}\'] [--url URL] [--token TOKEN] [--idempotency-key KEY]'

function fail (message: string, code = 2): never {
  console.error(message)
  process.exit(code)
}

let parsed
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      type: { type: 'string', default: 'contacts' },
      // No default: the server's depends on the type (contacts: email; interactions, promises: externalId).
      'upsert-on': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      delimiter: { type: 'string' },
      mapping: { type: 'string' },
      url: { type: 'string', default: process.env.RAPPORT_URL ?? 'http://127.0.0.1:3000' },
      token: { type: 'string', default: process.env.RAPPORT_TOKEN },
      'idempotency-key': { type: 'string' },
      'poll-ms': { type: 'string', default: '500' }
    }
  })
} catch (err) {
  fail(`${(err as Error).message}\n${usage}`)
}
const { values, positionals } = parsed
const file = positionals[0]
if (!file || positionals.length > 1) fail(usage)
if (!values.token) fail('A token is needed: --token or RAPPORT_TOKEN (npm run token -- --workspace <slug>)')
let size: number
try {
  size = statSync(file).size
} catch {
  fail(`Cannot read ${file}`)
}

const gz = file.endsWith('.gz')
const base = gz ? file.slice(0, -3) : file
const format = base.endsWith('.ndjson') || base.endsWith('.jsonl') ? 'ndjson' : 'csv'
const query = new URLSearchParams({ type: values.type, format, dryRun: String(values['dry-run']), ...(values['upsert-on'] ? { upsertOn: values['upsert-on'] } : {}) })
if (values.delimiter) query.set('delimiter', values.delimiter)
if (values.mapping) query.set('mapping', values.mapping)
const headers: Record<string, string> = {
  authorization: `Bearer ${values.token}`,
  'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
  ...(gz ? { 'content-encoding': 'gzip' } : {}),
  ...(values['idempotency-key'] ? { 'idempotency-key': values['idempotency-key'] } : {})
}
const api = values.url.replace(/\/$/, '')

async function call (path: string, init: RequestInit = {}) {
  let res: Response
  try {
    res = await fetch(api + path, { ...init, headers: { authorization: headers.authorization, ...(init.headers as Record<string, string> ?? {}) } })
  } catch (err) {
    fail(`Cannot reach ${api}: ${(err as Error).message}`)
  }
  const body = await res.json().catch(() => ({}))
  if (!res.ok) fail(`${res.status} ${body.title ?? res.statusText}: ${body.detail ?? ''}${body.errors ? '\n' + JSON.stringify(body.errors, null, 2) : ''}`)
  return body
}

console.error(`Uploading ${file} (${(size / 1e6).toFixed(1)} MB) to ${api}…`)
const job = await call(`/v1/imports?${query}`, {
  method: 'POST',
  headers,
  body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
  // Node's fetch streams a request body only in half-duplex mode.
  duplex: 'half'
} as RequestInit)

const bar = new cliProgress.SingleBar({
  format: 'import {bar} {value}/{total} rows | {rps} rows/s | created {created} updated {updated} unchanged {unchanged} failed {failed}',
  hideCursor: true,
  stream: process.stderr
}, cliProgress.Presets.shades_classic)
bar.start(job.counts.rowsRead, 0, { rps: 0, created: 0, updated: 0, unchanged: 0, failed: 0 })
let current = job
while (['receiving', 'queued', 'running'].includes(current.status)) {
  await new Promise((resolve) => setTimeout(resolve, Number(values['poll-ms'])))
  current = await call(`/v1/imports/${job.id}`)
  bar.setTotal(current.counts.rowsRead)
  bar.update(current.counts.processed, { rps: current.rowsPerSecond ?? 0, ...current.counts })
}
bar.stop()

const c = current.counts
console.log(`import ${current.id} ${current.status}: ${c.rowsRead} rows read, ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.failed} failed` +
  (current.rowsPerSecond ? ` (${current.rowsPerSecond} rows/s)` : ''))
if (c.failed > 0) console.log(`errors: ${api}${current.errorsUrl}?format=csv`)
if (current.status !== 'completed') process.exit(2)
process.exit(c.failed > 0 ? 1 : 0)
