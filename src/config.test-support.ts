import type { Config } from './config.js'

/** A complete configuration that needs no environment: tests and the contract writer use it. */
export function testConfig (overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    databasePoolMax: 5,
    databaseReadPoolMax: 5,
    databaseConnectTimeoutMs: 5000,
    databaseStatementTimeoutMs: 30_000,
    databaseAnswerTimeoutMs: 35_000,
    shutdownGraceMs: 10_000,
    maxInFlight: 0,
    dataDir: '/nonexistent',
    jwtSecret: 'test-secret-test-secret-test-secret-0123',
    secretsKey: '0'.repeat(64),
    logLevel: 'silent',
    bodyLimit: 1_048_576,
    graphiql: true,
    graphql: { maxCost: 50_000, maxAliases: 30 },
    // Off: suites make hundreds of requests; test/rate-limit*.test.ts turn limits on.
    rateLimit: { max: 0, windowMs: 60_000 },
    workers: true,
    workerPollMs: 50,
    promiseRiskWindowMs: 86_400_000,
    outbox: { maxAttempts: 3, backoffBaseMs: 20, leaseMs: 5000 },
    inbox: { maxAttempts: 5, backoffBaseMs: 20 },
    imports: { maxBytes: 2 * 1024 ** 3, uploadLeaseMs: 600_000 },
    // Tests run their webhook receivers on 127.0.0.1; test/webhooks-ssrf.test.ts takes this away.
    webhooks: { allowHosts: ['127.0.0.1'], allowPrivate: false, retryScheduleMs: [1000, 2000, 4000], timeoutMs: 2000, leaseMs: 5000, retentionDays: 30 },
    notes: [],
    ...overrides
  }
}
