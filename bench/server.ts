import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import { allScopes } from '../src/lib/context.js'
import { jwtOptions } from '../src/plugins/auth.js'

export const benchRoot = fileURLToPath(new URL('..', import.meta.url))
const secret = 'bench-secret-bench-secret-bench-secret-00'

/**
 * The real server (src/server.ts) as a child process at production settings, on `databaseUrl`,
 * ready once /readyz answers. `env` adds to or overrides those settings (rate limit, worker poll).
 */
export async function startBenchServer (databaseUrl: string, port: number, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ChildProcess> {
  // Another server already answering on the port would be measured in our child's place.
  if (await fetch(`http://127.0.0.1:${port}/readyz`).then(() => true, () => false)) throw new Error(`port ${port} is in use: stop what listens there (or pick another port)`)
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/server.ts'], {
    cwd: benchRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, JWT_SECRET: secret, SECRETS_KEY: 'a'.repeat(64), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', GRAPHIQL: 'false', ...env },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  child.kill('SIGKILL')
  throw new Error('Rapport did not start')
}

/** A bearer token for the bench workspace with every scope, signed with the bench server's secret. */
export async function benchToken (expiresIn = '12h'): Promise<string> {
  const app = Fastify()
  await app.register(fastifyJwt, jwtOptions({ jwtSecret: secret }))
  await app.ready()
  return app.jwt.sign({ sub: 'bench', wid: 'bench', scope: allScopes.join(' ') }, { expiresIn })
}
