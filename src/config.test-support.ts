import type { Config } from './config.js'

/** A complete configuration that needs no environment: tests and the contract writer use it. */
export function testConfig (overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    databasePoolMax: 5,
    dataDir: '/nonexistent',
    jwtSecret: 'test-secret-test-secret-test-secret-0123',
    secretsKey: '0'.repeat(64),
    logLevel: 'silent',
    bodyLimit: 1_048_576,
    graphiql: true,
    workers: true,
    workerPollMs: 50,
    promiseRiskWindowMs: 86_400_000,
    outbox: { maxAttempts: 3, backoffBaseMs: 20, leaseMs: 5000 },
    imports: { maxBytes: 2 * 1024 ** 3, uploadLeaseMs: 600_000 },
    notes: [],
    ...overrides
  }
}
