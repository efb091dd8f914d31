import { randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import postgres from 'postgres'
import { buildApp, type App } from '../src/app.js'
import type { Config } from '../src/config.js'
import { testConfig } from '../src/config.test-support.js'
import { openDatabase, type Database } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { allScopes } from '../src/lib/context.js'
import type { Clock } from '../src/lib/clock.js'
import { openApiValidator } from './support/openapi-validator.js'

interface TapLike { teardown: (fn: () => unknown) => void, fail?: (message: string) => unknown }

export interface TokenOptions { workspace?: string, scopes?: readonly string[], sub?: string, expiresIn?: string }
export interface CallOptions { token?: string | null, body?: unknown, headers?: Record<string, string>, payload?: string | Buffer }

/**
 * An isolated database per test file: a fresh in-memory PGlite, or with DATABASE_URL a fresh
 * database on that server, dropped at teardown. Real migrations run in both.
 */
export async function isolatedDatabase (t: TapLike, opts: { onQuery?: (query: string) => void } = {}): Promise<Database & { url?: string }> {
  const base = process.env.DATABASE_URL
  if (!base) {
    const database = await openDatabase({ onQuery: opts.onQuery })
    await runMigrations(database)
    t.teardown(() => database.close())
    return database
  }
  const name = `rapport_test_${randomBytes(6).toString('hex')}`
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(base)
  url.pathname = '/' + name
  const database = await openDatabase({ databaseUrl: url.toString(), poolMax: 5, onQuery: opts.onQuery })
  await runMigrations(database)
  t.teardown(async () => {
    await database.close()
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end()
  })
  return { ...database, url: url.toString() }
}

/**
 * Every REST response the tests provoke is checked against openapi.yaml (status documented,
 * content type, body schema); a mismatch fails the test that caused it.
 */
function checkResponsesAgainstOpenApi (t: TapLike, app: App) {
  const validator = openApiValidator()
  const violations: string[] = []
  app.addHook('onSend', async (request, reply, payload) => {
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? '' : undefined
    const found = validator.check({
      method: request.method,
      route: request.routeOptions.url,
      url: request.url,
      status: reply.statusCode,
      contentType: reply.getHeader('content-type') as string | undefined,
      body
    })
    for (const v of found) {
      const message = `response does not match openapi.yaml (test/support/openapi-validator.ts): ${v}`
      if (t.fail) t.fail(message)
      else violations.push(message)
    }
    return payload
  })
  t.teardown(() => {
    if (violations.length > 0) throw new Error(violations.join('\n'))
  })
}

export interface BuildOptions { config?: Partial<Config>, clock?: Clock, onQuery?: (query: string) => void }

export async function build (t: TapLike, opts: BuildOptions = {}) {
  const database = await isolatedDatabase(t, { onQuery: opts.onQuery })
  const config = testConfig(opts.config)
  const app: App = await buildApp({ config, db: database.db, clock: opts.clock, logger: false })
  checkResponsesAgainstOpenApi(t, app)
  await app.ready()
  t.teardown(() => app.close())

  const token = (o: TokenOptions = {}) => app.jwt.sign(
    { sub: o.sub ?? 'tester', wid: o.workspace ?? 'acme', scope: (o.scopes ?? allScopes).join(' ') },
    { expiresIn: o.expiresIn ?? '1h' })
  const defaultToken = token()

  async function rest (method: string, url: string, o: CallOptions = {}): Promise<LightMyRequestResponse & { body: string, data: any }> {
    const headers: Record<string, string> = { ...o.headers }
    const bearer = o.token === undefined ? defaultToken : o.token
    if (bearer) headers.authorization = `Bearer ${bearer}`
    const res = await app.inject({
      method: method as never,
      url,
      headers,
      ...(o.payload !== undefined ? { payload: o.payload } : o.body !== undefined ? { payload: o.body as object } : {})
    })
    let data: unknown
    try { data = res.body ? JSON.parse(res.body) : undefined } catch { data = undefined }
    return Object.assign(res, { data })
  }

  async function gql (query: string, variables: Record<string, unknown> = {}, o: { token?: string | null } = {}) {
    const res = await rest('POST', '/graphql', { token: o.token, body: { query, variables } })
    return { status: res.statusCode, data: res.data?.data, errors: res.data?.errors as Array<{ message: string, extensions: Record<string, any> }> | undefined, res }
  }

  return { app, database, config, token, rest, gql }
}

export type TestApp = Awaited<ReturnType<typeof build>>
