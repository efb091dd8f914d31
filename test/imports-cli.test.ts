import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { parse as parseCsv } from 'csv-parse/sync'
import t from 'tap'
import { cleanEnv, runTs } from './support/process.js'
import { csv } from './support/imports/index.js'
import { api, countContacts, mintToken, serverEnv, startServer, tempDir, waitForJob } from './support/imports/server.js'

// The import CLI (scripts/import.ts) end to end: a real server child process (src/server.ts) on a
// temp DATA_DIR (PGlite) or a fresh PostgreSQL database, a token from scripts/token.ts, and the CLI
// run as `node --import tsx scripts/import.ts <file> …` with its exit code and output.

const env = await serverEnv(t, { WORKER_POLL_MS: '50' })
const { base, server } = await startServer(t, env)
const token = await mintToken(env, 'cli', 'imports:read,imports:write,contacts:read')
const dir = tempDir(t, 'cli-files')

const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
  runTs('scripts/import.ts', args, cleanEnv(extraEnv), 120_000)
const common = ['--upsert-on', 'externalId', '--url', base.origin, '--poll-ms', '100']
const summary = /^import (imp_\w+) completed: (\d+) rows read, (\d+) created, (\d+) updated, (\d+) unchanged, (\d+) failed/m

t.test('a file with one bad row: exit code 1, the summary line and the errors URL', async (t) => {
  const file = join(dir, 'contacts.csv')
  writeFileSync(file, csv([
    ['externalId', 'givenName', 'email'],
    ['c-1', 'Ada', 'ada@example.com'],
    ['c-2', 'Bad', 'not-an-email'],
    ['c-3', 'Cy', 'cy@example.com']
  ]))
  const res = await cli([file, ...common, '--token', token])
  t.equal(res.code, 1, `exit code 1 when rows failed (stderr: ${res.stderr.slice(-500)})`)
  const m = summary.exec(res.stdout)
  t.ok(m, `a summary line on stdout: ${res.stdout}`)
  t.same(m?.slice(2).map(Number), [3, 2, 0, 0, 1], '3 read, 2 created, 1 failed')
  const id = m?.[1]
  const errorsUrl = new RegExp(`^errors: ${base.origin}/v1/imports/${id}/errors\\?format=csv$`, 'm')
  t.match(res.stdout, errorsUrl, 'the errors URL, ready to open')
  t.match(res.stderr, /Uploading .*contacts\.csv/, 'progress talk goes to stderr')

  const report = await fetch(new URL(`/v1/imports/${id}/errors?format=csv`, base), { headers: { authorization: `Bearer ${token}` } })
  t.equal(report.status, 200)
  const rows = parseCsv(await report.text(), { columns: true }) as Array<Record<string, string>>
  t.match(rows, [{ line: '3', field: /^emails/, reason: /e-mail/ }], 'the report names line 3')
  t.equal((await countContacts(base, token)).count, 2)
})

t.test('a clean file: exit code 0; again: all unchanged; gzip and NDJSON by file name', async (t) => {
  const file = join(dir, 'clean.csv')
  writeFileSync(file, csv([['externalId', 'givenName', 'email'], ['d-1', 'Dee', 'dee@example.com'], ['d-2', 'Don', 'don@example.com']]))
  const res = await cli([file, ...common, '--token', token])
  t.equal(res.code, 0, `exit code 0 (stderr: ${res.stderr.slice(-500)})`)
  t.same(summary.exec(res.stdout)?.slice(2).map(Number), [2, 2, 0, 0, 0])
  t.notMatch(res.stdout, /errors:/, 'no errors URL when nothing failed')

  const again = await cli([file, ...common, '--token', token])
  t.equal(again.code, 0)
  t.same(summary.exec(again.stdout)?.slice(2).map(Number), [2, 0, 0, 2, 0], 'the same file again: unchanged')

  const gz = join(dir, 'more.ndjson.gz')
  writeFileSync(gz, gzipSync([{ externalId: 'n-1', givenName: 'Nia' }, { externalId: 'n-2', givenName: 'Ned' }].map((l) => JSON.stringify(l)).join('\n') + '\n'))
  const zipped = await cli([gz, ...common, '--token', token])
  t.equal(zipped.code, 0, `.ndjson.gz (stderr: ${zipped.stderr.slice(-500)})`)
  t.same(summary.exec(zipped.stdout)?.slice(2).map(Number), [2, 2, 0, 0, 0])

  const dry = join(dir, 'dry.csv')
  writeFileSync(dry, csv([['externalId'], ['dry-1']]))
  const dryRun = await cli([dry, ...common, '--token', token, '--dry-run'])
  t.equal(dryRun.code, 0)
  t.same(summary.exec(dryRun.stdout)?.slice(2).map(Number), [1, 1, 0, 0, 0], 'a dry run reports what it would create')
  t.equal((await countContacts(base, token)).count, 6, 'and writes nothing')

  const viaEnv = await cli([file, '--upsert-on', 'externalId', '--poll-ms', '100'], { RAPPORT_URL: base.origin, RAPPORT_TOKEN: token })
  t.equal(viaEnv.code, 0, 'RAPPORT_URL and RAPPORT_TOKEN work as --url and --token')
})

t.test('usage and transport errors: exit code 2', async (t) => {
  const file = join(dir, 'clean.csv')
  const noToken = await cli([file, ...common])
  t.equal(noToken.code, 2, 'missing token: exit code 2')
  t.match(noToken.stderr, /token/i, 'says a token is needed')
  t.equal(noToken.stdout, '')

  const noFile = await cli([join(dir, 'missing.csv'), ...common, '--token', token])
  t.equal(noFile.code, 2, 'a missing file')
  t.match(noFile.stderr, /Cannot read/)
  const noArgs = await cli(['--token', token])
  t.equal(noArgs.code, 2, 'no file argument')
  t.match(noArgs.stderr, /Usage/)

  const badKey = await cli([file, '--upsert-on', 'nickname', '--url', base.origin, '--token', token])
  t.equal(badKey.code, 2, 'a bad --upsert-on refused by the server')
  t.match(badKey.stderr, /400/)
  const badToken = await cli([file, ...common, '--token', 'not.a.jwt'])
  t.equal(badToken.code, 2, 'a bad token')
  t.match(badToken.stderr, /401/)
  const readOnly = await mintToken(env, 'cli', 'imports:read')
  const denied = await cli([file, ...common, '--token', readOnly])
  t.equal(denied.code, 2, 'a token without imports:write')
  t.match(denied.stderr, /403/)
  const down = await cli([file, '--upsert-on', 'externalId', '--url', 'http://127.0.0.1:9', '--token', token])
  t.equal(down.code, 2, 'no server there')
  t.match(down.stderr, /Cannot reach/)
})

t.test('the real server survives bad uploads', async (t) => {
  const notGzip = await api(base, token, '/v1/imports?upsertOn=externalId', {
    method: 'POST', headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip' }, body: 'externalId\nz-1\n'
  })
  t.equal(notGzip.status, 400, 'a body that is not gzip: 400')
  t.equal(notGzip.body.code, 'import.malformed')
  t.equal((await fetch(new URL('/healthz', base))).status, 200, 'and the server is still up')

  // A client that goes away mid-upload: the job fails instead of staying `receiving` forever.
  await new Promise<void>((resolve) => {
    const req = request(new URL('/v1/imports?upsertOn=externalId', base), {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': '100000' }
    })
    req.on('error', () => resolve())
    req.write('externalId,givenName\ncut-1,Cut\ncut-2,Short\n')
    setTimeout(() => { req.destroy(); resolve() }, 500)
  })
  const list = await api(base, token, '/v1/imports?limit=1')
  const cut = list.body.data[0]
  t.not(cut.id, notGzip.body.importId, 'the cut upload made a job')
  const ended = await waitForJob(base, token, cut.id, (j) => j.status !== 'receiving', 20_000).catch((err) => ({ status: String(err) }))
  t.equal(ended.status, 'failed', 'the cut upload\'s job failed')
  t.equal((await fetch(new URL('/healthz', base))).status, 200, 'the server is still up')
  t.equal(server.child.exitCode, null, 'the server process did not exit')
})
