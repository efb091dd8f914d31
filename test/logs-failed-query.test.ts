import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { testConfig } from '../src/config.test-support.js'
import { isolatedDatabase } from './helper.js'
import { assertProblem, internalsPattern } from './support/problem.js'

// A statement that fails for a reason of ours (here: the schema drifted under the running server)
// is a 500, and the server logs it for its operators: the SQL and the database's error, never the
// values the statement carried (customers' names, e-mails, message bodies).

const lines: string[] = []
const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
const database = await isolatedDatabase(t)
const app = await buildApp({ config: testConfig(), db: database.db, logger: { level: 'info', stream } })
await app.ready()
t.teardown(() => app.close())
const token = app.jwt.sign({ sub: 'tester', wid: 'logs', scope: 'contacts:read contacts:write' })
const post = (body: object) => app.inject({ method: 'POST', url: '/v1/contacts', headers: { authorization: `Bearer ${token}` }, payload: body })

t.test('a failed statement is logged with its SQL and error, without the values it carried', async (t) => {
  t.equal((await post({ displayName: 'Before the drift', company: 'Fine Inc' })).statusCode, 201, 'writes work before')
  await database.db.execute(sql`alter table contacts rename column company to company_drifted`)
  t.teardown(() => database.db.execute(sql`alter table contacts rename column company_drifted to company`))

  // A value with a line that looks like a stack frame must not end the redaction early.
  const values = { displayName: 'Ada Leakwell', company: 'Company-SECRET-4242\n    at Object.<anonymous> (x.js:1:1)', emails: ['leak-4242@example.com'] }
  const res = await post(values)
  const problem = assertProblem(t, { ...res, data: JSON.parse(res.body) }, 500, 'internal', 'schema drift')
  t.notMatch(problem.detail, internalsPattern, 'the client learns nothing of the internals')

  const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50)
  t.equal(errors.length, 1, 'one error line for the failed request')
  const logged = JSON.stringify(errors)
  t.match(logged, /Failed query: insert into \\"contacts\\"/, 'the SQL that failed is logged')
  t.match(logged, /column \\"company\\" of relation \\"contacts\\" does not exist/, 'with the database\'s reason')
  for (const v of ['Ada Leakwell', 'Company-SECRET-4242', 'Object.<anonymous> (x.js', 'leak-4242@example.com']) t.notMatch(logged, v, `the value ${v} is not logged`)
})
