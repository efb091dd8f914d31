import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

// One schema for the whole environment: a bad value stops the process with the variable's name.
const envSchema = z.object({
  // A blank value (PORT= in a .env file) is a mistake, not port 0.
  PORT: z.string().trim().regex(/^\d+$/, 'must be a port number').default('3000').transform(Number).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  DATABASE_READ_POOL_MAX: z.coerce.number().int().min(1).max(1000).optional(),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  DATABASE_ANSWER_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  MAX_IN_FLIGHT: z.coerce.number().int().min(0).max(1_000_000).default(200),
  DATA_DIR: z.string().min(1).default('./data'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SECRETS_KEY: z.string().regex(/^[0-9a-f]{64}$/i, 'must be 64 hex characters (32 bytes)').optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  BODY_LIMIT: z.coerce.number().int().min(1024).default(1_048_576),
  GRAPHIQL: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(50_000),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(30),
  GRAPHQL_SUBSCRIPTION_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(100),
  PUBLIC_URL: z.url().optional(),
  TRUST_PROXY: z.string().trim().optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '' || v === 'false') return false
      if (v === 'true') return true
      if (/^\d+$/.test(v)) return Number(v)
      const list = v.split(',').map((x) => x.trim()).filter(Boolean)
      if (list.every((x) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(x))) return list
      ctx.addIssue({ code: 'custom', message: 'must be true, false, a number of proxy hops, or comma-separated proxy addresses/CIDR ranges' })
      return z.NEVER
    }),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(1000),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  RATE_LIMIT_AUTH_FAILURES_MAX: z.coerce.number().int().min(0).default(30),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  WORKERS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  WORKER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  OUTBOX_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(2000),
  PROMISE_AT_RISK_MS: z.coerce.number().int().min(0).default(86_400_000),
  OUTBOX_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  // Provider webhooks the inbox worker failed to apply: tries in all, and the first retry's delay
  // (each later one five times longer: 1 s, 5 s, 25 s, ~2 min, ~10 min by default).
  INBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  INBOX_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(1000),
  IMPORT_MAX_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 ** 3),
  IMPORT_UPLOAD_LEASE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  IMPORT_BATCH_ROWS: z.coerce.number().int().min(1).max(50_000).default(5000),
  IMPORT_BATCH_BYTES: z.coerce.number().int().min(65_536).max(1_073_741_824).default(16 * 1024 * 1024),
  // Outbound webhooks: hosts (names, IPs or CIDR ranges) exempt from the private-address refusal,
  // or every private address at once; the retry delays in seconds (the default spans ~3 days).
  WEBHOOK_ALLOW_HOSTS: z.string().default('').transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  WEBHOOK_RETRY_SCHEDULE: z.string().regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be comma-separated seconds').default('5,300,1800,7200,18000,36000,50400,72000,72000')
    .transform((s) => s.split(',').map((n) => Number(n.trim()) * 1000)),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  WEBHOOK_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  // Finished deliveries (and their attempts) older than this are deleted; 0 keeps them forever.
  WEBHOOK_DELIVERY_RETENTION_DAYS: z.string().trim().regex(/^\d+$/, 'must be a whole number of days (0: keep forever)').default('30').transform(Number).pipe(z.number().max(3650))
})

export interface Config {
  port: number
  host: string
  databaseUrl?: string
  databasePoolMax: number
  /** Connections of the read pool (PostgreSQL); defaults to databasePoolMax. */
  databaseReadPoolMax: number
  /** Opening a database connection fails after this long (then requests get a 503). */
  databaseConnectTimeoutMs: number
  /** PostgreSQL cancels a statement running longer than this (0: no limit). */
  databaseStatementTimeoutMs: number
  /**
   * A connection that owes answers and has received nothing for this long is taken for dead (a
   * network partition, a hung server) and dropped: its queries fail with 503 (0: wait for TCP).
   */
  databaseAnswerTimeoutMs: number
  /** On SIGTERM/SIGINT, how long in-flight requests and jobs may take before the process exits anyway. */
  shutdownGraceMs: number
  /** Requests handled at once; beyond it a request gets 503 with Retry-After at once (0: no limit). */
  maxInFlight: number
  dataDir: string
  jwtSecret: string
  secretsKey: string
  logLevel: (typeof logLevels)[number]
  bodyLimit: number
  graphiql: boolean
  /** GraphQL limits: nodes a query may ask for (GitHub's node limit), aliased fields per document. */
  graphql: { maxCost: number, maxAliases: number, /** How often the subscription relay reads the events committed in workspaces with subscribers. */ subscriptionPollMs?: number }
  /** Requests per window per API key or token subject (per IP on public routes); max 0 turns limits off. */
  rateLimit: {
    max: number, windowMs: number,
    /** Failed authentications (401 answers) per client IP per window before that IP is paused; 0 or unset: no pause. */
    authFailuresMax?: number,
    /** Prefix of the Redis keys (tests give each app its own). */ namespace?: string
  }
  /** Shared store for rate limits, so that they hold across server processes. */
  redisUrl?: string
  /** Public origin of this server, as providers see it (Twilio signs the full URL). */
  publicUrl?: string
  /**
   * Which proxies' X-Forwarded-For to believe (Fastify's trustProxy): the client address that rate
   * limits and the failed-authentication pause count by. false: the TCP peer.
   */
  trustProxy?: boolean | number | string[]
  /** Run the background workers (inbox, outbox) in this process. */
  workers: boolean
  workerPollMs: number
  outbox: { maxAttempts: number, backoffBaseMs: number, leaseMs: number }
  /**
   * The inbox worker: tries to apply one provider webhook before its row is `failed`, and the delay
   * before the first retry (each next one five times longer, with jitter, capped at an hour).
   */
  inbox: InboxRetryConfig
  /**
   * Import uploads: the most bytes one may send (after gunzip), how long an upload may go silent
   * before its job fails, and the rows per staged and per applied batch (one transaction each).
   */
  imports: { maxBytes: number, uploadLeaseMs: number, batchRows?: number, /** Bytes of rows as uploaded per batch (past its first row). */ batchBytes?: number }
  /**
   * Outbound webhooks: URL policy (private addresses refused unless allowed), the delay before each
   * retry (its length is the number of retries), the per-request timeout and the claim lease.
   */
  webhooks: WebhookConfig
  /** How long before its due date an open promise turns at_risk. */
  promiseRiskWindowMs: number
  /** Human-readable notes for the startup log (generated secrets and where they live). */
  notes: string[]
}

export interface InboxRetryConfig {
  maxAttempts: number
  backoffBaseMs: number
}

export interface WebhookConfig {
  allowHosts: string[]
  allowPrivate: boolean
  retryScheduleMs: number[]
  timeoutMs: number
  leaseMs: number
  /** Days a finished delivery (with its attempts) is kept; 0: forever. */
  retentionDays: number
}

export class ConfigError extends Error {}

// A live server answers within statement_timeout (with the result or the cancellation), so silence
// past it plus a margin for a busy machine means the connection is dead. Without a statement
// timeout a statement may rightly run for hours: then it is off unless set, and a value set is the
// operator's bound on every statement.
const ANSWER_MARGIN_MS = 5000
// Less than this above the statement timeout, a statement cancelled at its limit could be taken for
// a dead connection (ANSWER_TIMEOUT, opening the breaker) before its cancellation arrives.
const MIN_ANSWER_MARGIN_MS = 1000

function answerTimeout (statementTimeoutMs: number, configured: number | undefined): number {
  if (configured === undefined) return statementTimeoutMs > 0 ? statementTimeoutMs + ANSWER_MARGIN_MS : 0
  if (configured > 0 && statementTimeoutMs > 0 && configured < statementTimeoutMs + MIN_ANSWER_MARGIN_MS) {
    throw new ConfigError(`Invalid environment configuration:\n  DATABASE_ANSWER_TIMEOUT_MS: must exceed DATABASE_STATEMENT_TIMEOUT_MS (${statementTimeoutMs}) by at least ${MIN_ANSWER_MARGIN_MS} ms, or statements that run their allowed time would be cut off`)
  }
  return configured
}

export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`Invalid environment configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const dataDir = resolve(e.DATA_DIR)
  const notes: string[] = []
  const embedded = e.DATABASE_URL === undefined
  const jwtSecret = e.JWT_SECRET ?? persistedSecret('JWT_SECRET', dataDir, 'jwt-secret', embedded, notes)
  const secretsKey = e.SECRETS_KEY ?? persistedSecret('SECRETS_KEY', dataDir, 'secrets-key', embedded, notes)
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseReadPoolMax: e.DATABASE_READ_POOL_MAX ?? e.DATABASE_POOL_MAX,
    databaseConnectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseAnswerTimeoutMs: answerTimeout(e.DATABASE_STATEMENT_TIMEOUT_MS, e.DATABASE_ANSWER_TIMEOUT_MS),
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxInFlight: e.MAX_IN_FLIGHT,
    dataDir,
    jwtSecret,
    secretsKey,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.BODY_LIMIT,
    graphiql: e.GRAPHIQL,
    graphql: { maxCost: e.GRAPHQL_MAX_COST, maxAliases: e.GRAPHQL_MAX_ALIASES, subscriptionPollMs: e.GRAPHQL_SUBSCRIPTION_POLL_MS },
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS, authFailuresMax: e.RATE_LIMIT_AUTH_FAILURES_MAX },
    redisUrl: e.REDIS_URL,
    publicUrl: e.PUBLIC_URL,
    trustProxy: e.TRUST_PROXY,
    workers: e.WORKERS,
    workerPollMs: e.WORKER_POLL_MS,
    promiseRiskWindowMs: e.PROMISE_AT_RISK_MS,
    outbox: { maxAttempts: e.OUTBOX_MAX_ATTEMPTS, backoffBaseMs: e.OUTBOX_BACKOFF_MS, leaseMs: e.OUTBOX_LEASE_MS },
    inbox: { maxAttempts: e.INBOX_MAX_ATTEMPTS, backoffBaseMs: e.INBOX_BACKOFF_MS },
    imports: { maxBytes: e.IMPORT_MAX_BYTES, uploadLeaseMs: e.IMPORT_UPLOAD_LEASE_MS, batchRows: e.IMPORT_BATCH_ROWS, batchBytes: e.IMPORT_BATCH_BYTES },
    webhooks: {
      allowHosts: e.WEBHOOK_ALLOW_HOSTS,
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      // A claim must outlive the request it covers, or a slow receiver would get the event twice.
      leaseMs: Math.max(e.WEBHOOK_LEASE_MS, e.WEBHOOK_TIMEOUT_MS + 5000),
      retentionDays: e.WEBHOOK_DELIVERY_RETENTION_DAYS
    },
    notes
  }
}

// On the embedded database a secret may be generated once and kept beside the data, so that
// `npm start` works with no setup; a real server must be given its secrets explicitly.
function persistedSecret (name: string, dataDir: string, file: string, embedded: boolean, notes: string[]): string {
  if (!embedded) throw new ConfigError(`${name} is required when DATABASE_URL is set`)
  const path = join(dataDir, file)
  if (existsSync(path)) {
    notes.push(`${name} not set: using the one kept in ${path}`)
    return readFileSync(path, 'utf8').trim()
  }
  mkdirSync(dataDir, { recursive: true })
  const value = randomBytes(32).toString('hex')
  writeFileSync(path, value + '\n', { mode: 0o600 })
  notes.push(`${name} not set: generated one and kept it in ${path}`)
  return value
}
