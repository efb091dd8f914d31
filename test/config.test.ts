import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { isolatedDatabase } from './helper.js'
import type { TapTest } from './support/tap.js'
import { cleanEnv, freePort, logMessages, runTs, spawnTs, waitForListening, type NodeProcess } from './support/process.js'

// loadConfig is the process's configuration interface; then the real processes: server and token script.

const jwtSecret = 'config-test-secret-config-test-secret-01'
const secretsKey = 'ab'.repeat(32)
const explicitSecrets = { JWT_SECRET: jwtSecret, SECRETS_KEY: secretsKey }

function tempDir (t: TapTest, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rapport-${name}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The ConfigError loadConfig throws for this environment (or a failure when it does not throw). */
function configError (t: TapTest, env: NodeJS.ProcessEnv): ConfigError | undefined {
  try {
    loadConfig(env)
  } catch (err) {
    t.ok(err instanceof ConfigError, `a ConfigError (${String(err)})`)
    return err as ConfigError
  }
  t.fail(`loadConfig accepted ${JSON.stringify(env)}`)
  return undefined
}

// Only the variables this file knows are compared, so a new variable does not break it.
t.test('loadConfig: defaults', async (t) => {
  const hadDataDir = existsSync(resolve('./data'))
  const config = loadConfig({ ...explicitSecrets })
  t.match(config, {
    port: 3000,
    host: '127.0.0.1',
    databasePoolMax: 10,
    databaseReadPoolMax: 10,
    dataDir: resolve('./data'),
    jwtSecret,
    secretsKey,
    logLevel: 'info',
    bodyLimit: 1_048_576,
    graphiql: true
  })
  t.equal(config.databaseUrl, undefined, 'the embedded database by default')
  t.same(config.notes, [], 'no notes when the secrets are given')
  t.equal(existsSync(resolve('./data')), hadDataDir, 'given both secrets, nothing is written to DATA_DIR')
})

t.test('loadConfig: each variable is read', async (t) => {
  const dataDir = tempDir(t, 'cfg')
  const config = loadConfig({
    ...explicitSecrets,
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgresql://u:p@db.example:5432/rapport',
    DATABASE_POOL_MAX: '20',
    DATABASE_READ_POOL_MAX: '7',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    BODY_LIMIT: '4096',
    GRAPHIQL: 'false',
    UNRELATED: 'ignored'
  })
  t.match(config, {
    port: 8080,
    host: '0.0.0.0',
    databaseUrl: 'postgresql://u:p@db.example:5432/rapport',
    databasePoolMax: 20,
    databaseReadPoolMax: 7,
    dataDir,
    jwtSecret,
    secretsKey,
    logLevel: 'debug',
    bodyLimit: 4096,
    graphiql: false
  })
  t.same(config.notes, [])
  t.equal(loadConfig({ ...explicitSecrets, PORT: '0' }).port, 0, 'PORT=0 (any free port) is allowed')
})

t.test('loadConfig: TRUST_PROXY as Fastify takes it', async (t) => {
  const trust = (v?: string) => loadConfig({ ...explicitSecrets, ...(v === undefined ? {} : { TRUST_PROXY: v }) }).trustProxy
  t.equal(trust(), false, 'unset: the TCP peer is the client')
  t.equal(trust('false'), false)
  t.equal(trust('true'), true)
  t.equal(trust('2'), 2, 'a number of hops')
  t.same(trust('10.0.0.0/8, 127.0.0.1,::1'), ['10.0.0.0/8', '127.0.0.1', '::1'], 'proxy addresses and ranges')
})

t.test('loadConfig: a bad value is a ConfigError naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ PORT: '80.5' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://localhost/rapport' }, 'DATABASE_URL'],
    [{ DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX'],
    [{ BODY_LIMIT: '10' }, 'BODY_LIMIT'],
    [{ GRAPHIQL: 'yes' }, 'GRAPHIQL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ SECRETS_KEY: 'not-hex' }, 'SECRETS_KEY'],
    [{ TRUST_PROXY: 'yes please' }, 'TRUST_PROXY']
  ]
  for (const [env, name] of cases) {
    const err = configError(t, { ...explicitSecrets, ...env })
    t.match(err?.message, new RegExp(`\\b${name}\\b`), `${JSON.stringify(env)} names ${name}`)
  }
  // An empty variable (PORT= in a .env, or ${PORT} unset in compose) coerces to 0: a random port.
  for (const blank of ['', ' ']) {
    let port: number | string
    try { port = loadConfig({ ...explicitSecrets, PORT: blank }).port } catch (err) { port = (err as Error).message }
    t.ok(port === 3000 || (typeof port === 'string' && /PORT/.test(port)), `PORT=${JSON.stringify(blank)} is refused or means the default, not port ${port}`)
  }
  const several = configError(t, { ...explicitSecrets, PORT: 'abc', LOG_LEVEL: 'loud' })
  t.match(several?.message, /PORT/, 'several bad values: PORT')
  t.match(several?.message, /LOG_LEVEL/, 'several bad values: LOG_LEVEL')
})

t.test('loadConfig: WEBHOOK_DELIVERY_RETENTION_DAYS is 30 days by default, 0 keeps deliveries forever, anything but 0..3650 days is refused', async (t) => {
  t.equal(loadConfig({ ...explicitSecrets }).webhooks.retentionDays, 30)
  t.equal(loadConfig({ ...explicitSecrets, WEBHOOK_DELIVERY_RETENTION_DAYS: '0' }).webhooks.retentionDays, 0)
  t.equal(loadConfig({ ...explicitSecrets, WEBHOOK_DELIVERY_RETENTION_DAYS: '7' }).webhooks.retentionDays, 7)
  for (const bad of ['-1', '1.5', 'week', '', '3651']) {
    const err = configError(t, { ...explicitSecrets, WEBHOOK_DELIVERY_RETENTION_DAYS: bad })
    t.match(err?.message, /WEBHOOK_DELIVERY_RETENTION_DAYS/, `${JSON.stringify(bad)} is refused, naming the variable`)
  }
})

t.test('loadConfig: inbox retries are 6 tries from a 1 s backoff by default; INBOX_MAX_ATTEMPTS and INBOX_BACKOFF_MS are read and checked', async (t) => {
  t.same(loadConfig({ ...explicitSecrets }).inbox, { maxAttempts: 6, backoffBaseMs: 1000 })
  t.same(loadConfig({ ...explicitSecrets, INBOX_MAX_ATTEMPTS: '3', INBOX_BACKOFF_MS: '250' }).inbox, { maxAttempts: 3, backoffBaseMs: 250 })
  for (const [name, bad] of [['INBOX_MAX_ATTEMPTS', '0'], ['INBOX_MAX_ATTEMPTS', '101'], ['INBOX_MAX_ATTEMPTS', 'many'], ['INBOX_BACKOFF_MS', '0'], ['INBOX_BACKOFF_MS', '3600001'], ['INBOX_BACKOFF_MS', '1.5']]) {
    const err = configError(t, { ...explicitSecrets, [name]: bad })
    t.match(err?.message, new RegExp(name), `${name}=${bad} is refused, naming the variable`)
  }
})

t.test('loadConfig: the answer timeout follows the statement timeout unless set, and must exceed it', async (t) => {
  t.equal(loadConfig({ ...explicitSecrets }).databaseAnswerTimeoutMs, 35_000, 'default: the 30 s statement timeout plus a 5 s margin')
  t.equal(loadConfig({ ...explicitSecrets, DATABASE_STATEMENT_TIMEOUT_MS: '2000' }).databaseAnswerTimeoutMs, 7000, 'follows a configured statement timeout')
  t.equal(loadConfig({ ...explicitSecrets, DATABASE_STATEMENT_TIMEOUT_MS: '0' }).databaseAnswerTimeoutMs, 0, 'no statement limit: no answer timeout unless set')
  t.equal(loadConfig({ ...explicitSecrets, DATABASE_ANSWER_TIMEOUT_MS: '60000' }).databaseAnswerTimeoutMs, 60_000, 'an explicit value')
  t.equal(loadConfig({ ...explicitSecrets, DATABASE_ANSWER_TIMEOUT_MS: '0' }).databaseAnswerTimeoutMs, 0, '0 turns it off')
  t.equal(loadConfig({ ...explicitSecrets, DATABASE_STATEMENT_TIMEOUT_MS: '0', DATABASE_ANSWER_TIMEOUT_MS: '9000' }).databaseAnswerTimeoutMs, 9000, 'without a statement limit a value set is the bound')
  t.equal(loadConfig({ ...explicitSecrets, DATABASE_ANSWER_TIMEOUT_MS: '31000' }).databaseAnswerTimeoutMs, 31_000, 'a second above the statement timeout is enough')
  for (const env of [{ DATABASE_ANSWER_TIMEOUT_MS: '30000' }, { DATABASE_ANSWER_TIMEOUT_MS: '30999' }, { DATABASE_ANSWER_TIMEOUT_MS: '1000' }]) {
    const err = configError(t, { ...explicitSecrets, ...env })
    t.match(err?.message, /DATABASE_ANSWER_TIMEOUT_MS: must exceed DATABASE_STATEMENT_TIMEOUT_MS \(30000\) by at least 1000 ms/, `${JSON.stringify(env)} is refused: statements allowed to run would be cut off`)
  }
})

t.test('loadConfig: with DATABASE_URL the secrets must be given', async (t) => {
  const dataDir = join(tempDir(t, 'cfg'), 'data')
  const noJwt = configError(t, { DATABASE_URL: 'postgres://localhost/rapport', SECRETS_KEY: secretsKey, DATA_DIR: dataDir })
  t.match(noJwt?.message, /JWT_SECRET/, 'names JWT_SECRET')
  const noKey = configError(t, { DATABASE_URL: 'postgres://localhost/rapport', JWT_SECRET: jwtSecret, DATA_DIR: dataDir })
  t.match(noKey?.message, /SECRETS_KEY/, 'names SECRETS_KEY')
  t.notOk(existsSync(dataDir), 'and nothing is generated on disk')
})

t.test('loadConfig: on the embedded database a missing secret is generated once into DATA_DIR', async (t) => {
  const dataDir = join(tempDir(t, 'cfg'), 'nested', 'data')
  const first = loadConfig({ DATA_DIR: dataDir })
  t.equal(first.dataDir, dataDir)
  t.ok(first.jwtSecret.length >= 32, 'a strong JWT secret')
  t.match(first.secretsKey, /^[0-9a-f]{64}$/, 'a SECRETS_KEY in the documented format')
  const jwtFile = join(dataDir, 'jwt-secret')
  t.equal(readFileSync(jwtFile, 'utf8').trim(), first.jwtSecret, 'kept in DATA_DIR/jwt-secret')
  t.equal(readFileSync(join(dataDir, 'secrets-key'), 'utf8').trim(), first.secretsKey, 'kept in DATA_DIR/secrets-key')
  t.equal(statSync(jwtFile).mode & 0o077, 0, 'readable by its owner only')
  t.ok(first.notes.some((n) => /JWT_SECRET/.test(n) && /generated/.test(n) && n.includes(jwtFile)), `a note says so (${first.notes.join(' | ')})`)

  const second = loadConfig({ DATA_DIR: dataDir })
  t.equal(second.jwtSecret, first.jwtSecret, 'the second load reuses it')
  t.equal(second.secretsKey, first.secretsKey)
  t.ok(second.notes.some((n) => /JWT_SECRET/.test(n) && /using/.test(n) && n.includes(jwtFile)), `a note says it was reused (${second.notes.join(' | ')})`)
  t.notOk(second.notes.some((n) => /generated/.test(n)), 'nothing new was generated')

  const given = loadConfig({ DATA_DIR: dataDir, JWT_SECRET: jwtSecret })
  t.equal(given.jwtSecret, jwtSecret, 'an explicit JWT_SECRET wins over the kept one')
  t.notOk(given.notes.some((n) => /JWT_SECRET/.test(n)), 'and needs no note')
})

// ---- Real processes ----

// Each child loads the whole app through tsx and the server opens an on-disk PGlite: on a busy
// machine this file needs more than the suite's default 120 s.
t.setTimeout(300_000)

const serverScript = 'src/server.ts'
const tokenScript = 'scripts/token.ts'

/** Environment for a server and token script sharing one database (embedded in DATA_DIR, or a fresh PostgreSQL database). */
async function processEnv (t: TapTest): Promise<Record<string, string>> {
  const dataDir = tempDir(t, 'proc')
  if (!process.env.DATABASE_URL) return { DATA_DIR: dataDir }
  const database = await isolatedDatabase(t)
  return { DATA_DIR: dataDir, DATABASE_URL: database.url!, ...explicitSecrets }
}

async function startServer (t: TapTest, env: Record<string, string>): Promise<{ server: NodeProcess, base: URL }> {
  const port = await freePort()
  const server = spawnTs(serverScript, [], cleanEnv({ ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' }))
  t.teardown(() => { if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL') })
  const base = await waitForListening(server)
  t.equal(base.port, String(port), `listens on the chosen port ${port}`)
  return { server, base }
}

async function stopServer (t: TapTest, server: NodeProcess) {
  server.child.kill('SIGTERM')
  const { code, signal } = await server.exited
  t.equal(code, 0, `SIGTERM: the server exits 0 (signal ${signal}; stderr: ${server.stderr().slice(0, 500)})`)
  t.ok(logMessages(server.stdout()).includes('closing'), 'it logged a graceful close')
}

async function mintToken (t: TapTest, env: Record<string, string>, scopes = 'contacts:read,contacts:write'): Promise<string> {
  const res = await runTs(tokenScript, ['--workspace', 'acme', '--scopes', scopes, '--ttl', '10m'], cleanEnv(env))
  t.equal(res.code, 0, `the token script succeeds (${res.stderr})`)
  const token = res.stdout.trim().split('\n').at(-1) ?? ''
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the last line of stdout is a JWT')
  t.match(res.stderr, /workspace acme/, 'it says what it minted on stderr')
  return token
}

t.test('the real server: start, mint a token, create and read a contact, SIGTERM, restart', async (t) => {
  const env = await processEnv(t)
  const { server, base } = await startServer(t, env)
  const url = (path: string) => new URL(path, base)

  const health = await fetch(url('/healthz'))
  t.equal(health.status, 200, '/healthz')
  t.same(await health.json(), { status: 'ok' })
  const ready = await fetch(url('/readyz'))
  t.equal(ready.status, 200, '/readyz')
  t.same(await ready.json(), { status: 'ok' })

  const token = await mintToken(t, env)
  const auth = { authorization: `Bearer ${token}` }
  const anonymous = await fetch(url('/v1/contacts'))
  t.equal(anonymous.status, 401, 'no token, no contacts')
  t.equal(anonymous.headers.get('content-type')?.split(';')[0], 'application/problem+json')

  const created = await fetch(url('/v1/contacts'), {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ givenName: 'Ada', familyName: 'Lovelace', emails: ['ada@example.com'] })
  })
  t.equal(created.status, 201, 'created over real HTTP')
  const contact = await created.json() as { id: string, displayName: string }
  t.equal(contact.displayName, 'Ada Lovelace')
  const location = created.headers.get('location')
  t.equal(location, `/v1/contacts/${contact.id}`)
  const read = await fetch(url(location!), { headers: auth })
  t.equal(read.status, 200)
  t.same(await read.json(), contact, 'read back the same contact')

  const gql = await fetch(url('/graphql'), {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query ($id: ID!) { contact(id: $id) { id displayName } }', variables: { id: contact.id } })
  })
  const answer = await gql.json() as { data: unknown, extensions?: { cost?: { requested: number } } }
  t.same(answer.data, { contact: { id: contact.id, displayName: 'Ada Lovelace' } }, 'and over GraphQL')
  t.match(answer.extensions, { cost: { requested: Number, limit: 50_000 } }, 'with the query cost reported')

  await stopServer(t, server)
  if (!env.DATABASE_URL) {
    t.ok(logMessages(server.stdout()).some((m) => /JWT_SECRET not set: generated/.test(m)), 'the first start generated its JWT secret')
  }

  // Same DATA_DIR (or database): the data and the secret survive a restart, so the token still works.
  const again = await startServer(t, env)
  if (!env.DATABASE_URL) {
    t.ok(logMessages(again.server.stdout()).some((m) => /JWT_SECRET not set: using/.test(m)), 'the restart reused the kept JWT secret')
  }
  const reread = await fetch(new URL(`/v1/contacts/${contact.id}`, again.base), { headers: auth })
  t.equal(reread.status, 200, 'the contact and the token survive a restart')
  t.same(await reread.json(), contact)
  await stopServer(t, again.server)
})

t.test('the token script refuses bad arguments with exit code 1 and a message', async (t) => {
  const env = cleanEnv({ DATA_DIR: tempDir(t, 'tok') })
  const cases: Array<[string[], RegExp, string]> = [
    [['--workspace', 'acme', '--scopes', 'contacts:read,contacts:fly'], /Unknown scopes: contacts:fly/, 'unknown scope'],
    [['--scopes', 'contacts:read'], /Usage: .*--workspace/, 'missing --workspace'],
    [['--workspace', 'Not A Slug'], /Usage/, 'invalid workspace slug'],
    [['--workspace', 'acme', '--ttl', 'forever'], /--ttl/, 'bad --ttl'],
    [['--workspace', 'acme', '--scope', 'contacts:read'], /Unknown option '--scope'[\s\S]*Usage/, 'unknown option']
  ]
  const results = await Promise.all(cases.map(([args]) => runTs(tokenScript, args, env)))
  for (const [i, [, message, label]] of cases.entries()) {
    const res = results[i]
    t.equal(res.code, 1, `${label}: exit code 1`)
    t.match(res.stderr, message, `${label}: says why`)
    t.notMatch(res.stderr, /\n\s+at /, `${label}: no stack trace`)
    t.equal(res.stdout, '', `${label}: no token on stdout`)
  }
  const noSecret = await runTs(tokenScript, ['--workspace', 'acme'], cleanEnv({ DATABASE_URL: 'postgres://127.0.0.1:1/none' }))
  t.equal(noSecret.code, 1, 'DATABASE_URL without JWT_SECRET: exit code 1')
  t.match(noSecret.stderr, /JWT_SECRET/, 'names JWT_SECRET')
  t.equal(noSecret.stdout, '')
})

t.test('the server refuses a bad environment before doing anything', async (t) => {
  const dataDir = join(tempDir(t, 'bad'), 'data')
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'postgres://127.0.0.1:1/none' }, 'JWT_SECRET']
  ]
  const results = await Promise.all(cases.map(([env]) => runTs(serverScript, [], cleanEnv({ DATA_DIR: dataDir, ...env }))))
  for (const [i, [env, name]] of cases.entries()) {
    const res = results[i]
    t.not(res.code, 0, `${JSON.stringify(env)}: exits non-zero (${res.code})`)
    t.match(res.stderr, new RegExp(`\\b${name}\\b`), `${JSON.stringify(env)}: stderr names ${name}`)
    t.notMatch(res.stderr, /\n\s+at /, `${JSON.stringify(env)}: no stack trace`)
    t.notOk(logMessages(res.stdout).some((m) => m.startsWith('Server listening')), 'never listened')
  }
  t.notOk(existsSync(dataDir), 'nothing was written to DATA_DIR')
})
