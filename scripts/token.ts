// Mints a bearer token: npm run token -- --workspace acme [--scopes a,b] [--ttl 1h] [--subject me]
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../src/config.js'
import { allScopes } from '../src/lib/context.js'
import { jwtOptions } from '../src/plugins/auth.js'

const usage = 'Usage: npm run token -- --workspace <slug: a-z, 0-9, -> [--scopes contacts:read,contacts:write] [--ttl 1h] [--subject name]'

function fail (message: string): never {
  console.error(message)
  process.exit(1)
}

// An unknown option or a stray argument is a usage error, not a stack trace.
function parseOptions () {
  try {
    return parseArgs({
      options: {
        workspace: { type: 'string', short: 'w' },
        scopes: { type: 'string', short: 's' },
        ttl: { type: 'string', default: '1h' },
        subject: { type: 'string', default: 'cli' }
      }
    }).values
  } catch (err) {
    return fail(`${(err as Error).message}\n${usage}`)
  }
}
const values = parseOptions()

if (!values.workspace || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(values.workspace)) fail(usage)
if (!/^\d+[smhd]$/.test(values.ttl)) fail('--ttl must look like 30m, 1h, 7d')
const scopes = values.scopes ? values.scopes.split(',').map((s) => s.trim()).filter(Boolean) : [...allScopes]
const unknown = scopes.filter((s) => !(allScopes as readonly string[]).includes(s))
if (unknown.length > 0) fail(`Unknown scopes: ${unknown.join(', ')}. Known: ${allScopes.join(' ')}`)

let config
try {
  config = loadConfig()
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err))
}
for (const note of config.notes) console.error(note)

const app = Fastify()
await app.register(fastifyJwt, jwtOptions(config))
await app.ready()
const token = app.jwt.sign({ sub: values.subject, wid: values.workspace, scope: scopes.join(' ') }, { expiresIn: values.ttl })
console.error(`workspace ${values.workspace} (created on first use), scopes: ${scopes.join(' ')}, expires in ${values.ttl}`)
console.log(token)
await app.close()
