import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

// The committed openapi.yaml lints clean with both linters partners use, with the configs in
// redocly.yaml and .spectral.yaml (Spectral: OpenAPI rules + OWASP API Security Top 10).
const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url))

async function lint (command: string, args: string[]) {
  try {
    const { stdout } = await run(bin(command), args, { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } })
    return { code: 0, stdout }
  } catch (err) {
    const e = err as { code?: number, stdout?: string, stderr?: string }
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr }
  }
}

t.test('redocly lint (recommended rules) finds no error', async (t) => {
  const res = await lint('redocly', ['lint', 'openapi.yaml', '--format=json'])
  const report = JSON.parse(res.stdout.slice(res.stdout.indexOf('{'))) as { problems: Array<{ ruleId: string, severity: string, message: string, location: Array<{ pointer: string }> }> }
  const errors = report.problems.filter((p) => p.severity === 'error')
  t.same(errors.map((p) => `${p.ruleId} ${p.location?.[0]?.pointer}: ${p.message}`), [], 'no redocly errors')
  t.equal(res.code, 0, 'redocly exits 0')
})

t.test('spectral lint (OpenAPI + OWASP rules) finds no error', async (t) => {
  const res = await lint('spectral', ['lint', 'openapi.yaml', '--fail-severity=error', '--format=json', '--quiet'])
  const results = JSON.parse(res.stdout.trim() || '[]') as Array<{ code: string, severity: number, message: string, path: string[] }>
  const errors = results.filter((r) => r.severity === 0)
  t.same(errors.map((r) => `${r.code} ${r.path.join('.')}: ${r.message}`), [], 'no spectral errors')
  t.equal(res.code, 0, 'spectral exits 0')
})

t.test('the OWASP ruleset is really applied: a document without limits fails it', async (t) => {
  // Guards against a config that silently loads no ruleset (then every document "passes").
  const { writeFileSync, mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'rapport-lint-'))
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, [
    'openapi: 3.1.0',
    'info: { title: bad, version: "1", description: x }',
    'servers: [{ url: "https://example.com" }]',
    'paths:',
    '  /things:',
    '    post:',
    '      operationId: makeThing',
    '      description: x',
    '      requestBody: { content: { application/json: { schema: { type: object, properties: { name: { type: string } } } } } }',
    '      responses: { "201": { description: ok } }'
  ].join('\n'))
  const res = await lint('spectral', ['lint', bad, '--ruleset', '.spectral.yaml', '--fail-severity=error', '--format=json', '--quiet'])
  const codes = new Set((JSON.parse(res.stdout.trim() || '[]') as Array<{ code: string }>).map((r) => r.code))
  t.not(res.code, 0, 'spectral fails on it')
  t.ok(codes.has('owasp:api2:2023-write-restricted'), 'the OWASP write-restricted rule fires')
  t.ok(codes.has('rapport-request-string-limit'), 'an unbounded request string is refused')
  t.ok(codes.has('rapport-rate-limit-headers'), 'a response without rate-limit headers is refused')
})
