import { sql } from 'drizzle-orm'
import t from 'tap'
import { inWorkspace, readInWorkspace, sendAhead } from '../src/db/tenant.js'
import { build } from './helper.js'

// The write path's transaction (src/db/tenant.ts): on PostgreSQL it runs on a reserved postgres.js
// connection with its own BEGIN/COMMIT and savepoints, so these are its own guarantees to prove.

// The workspace row the contacts belong to comes from the first authenticated request.
async function acme (t: Parameters<typeof build>[0]) {
  const { database, rest, token } = await build(t)
  await rest('GET', '/v1/contacts', { token: token({ workspace: 'acme' }) })
  return database
}

const names = async (db: Parameters<typeof inWorkspace>[0], ws: string) => {
  const r: any = await inWorkspace(db, ws, (tx) => tx.execute(sql`select display_name from contacts order by display_name`))
  return (Array.isArray(r) ? r : r.rows as any[]).map((row: { display_name: string }) => row.display_name)
}

t.test('a nested transaction is a savepoint: its failure undoes only its own writes', async (t) => {
  const database = await acme(t)
  const insert = (name: string) => sql`insert into contacts (workspace_id, id, display_name) values ('acme', ${'con_' + name}, ${name})`
  await inWorkspace(database.db, 'acme', async (tx) => {
    await tx.execute(insert('before'))
    await t.rejects(tx.transaction(async (sp) => {
      await sp.execute(insert('inside'))
      throw new Error('undo the savepoint')
    }), { message: 'undo the savepoint' })
    await tx.transaction(async (sp) => { await sp.execute(insert('kept')) })
    await tx.execute(insert('after'))
  })
  t.same(await names(database.db, 'acme'), ['after', 'before', 'kept'])
})

t.test('an error in fn rolls everything back, and the connection serves the next transaction', async (t) => {
  const database = await acme(t)
  await t.rejects(inWorkspace(database.db, 'acme', async (tx) => {
    await tx.execute(sql`insert into contacts (workspace_id, id, display_name) values ('acme', 'con_x', 'x')`)
    throw new Error('changed my mind')
  }), { message: 'changed my mind' })
  // More transactions than the pool has connections: each one starts clean.
  await Promise.all(Array.from({ length: 12 }, (_, i) => inWorkspace(database.db, 'acme', (tx) =>
    tx.execute(sql`insert into contacts (workspace_id, id, display_name) values ('acme', ${'con_' + i}, ${'n' + String(i).padStart(2, '0')})`))))
  t.same(await names(database.db, 'acme'), Array.from({ length: 12 }, (_, i) => 'n' + String(i).padStart(2, '0')))
})

t.test('a transaction whose statement failed is never reported as committed', {
  skip: process.env.DATABASE_URL ? false : 'PostgreSQL only: on PGlite drizzle\'s own transaction reports a COMMIT that rolled back as done'
}, async (t) => {
  const database = await acme(t)
  await t.rejects(inWorkspace(database.db, 'acme', async (tx) => {
    await tx.execute(sql`insert into contacts (workspace_id, id, display_name) values ('acme', 'con_lost', 'lost')`)
    // The caller swallows the error, but the transaction is aborted: COMMIT answers ROLLBACK.
    await tx.execute(sql`select 1 / 0`).catch(() => {})
    return 'done'
  }), { message: /rolled back/ })
  t.same(await names(database.db, 'acme'), [], 'nothing was written')
})

// sendAhead (the event log's appends): a write whose answer nobody reads leaves with COMMIT.
const onPostgres = process.env.DATABASE_URL ? false : 'PostgreSQL only: PGlite runs in process, nothing is sent ahead there'
const insertText = "insert into contacts (workspace_id, id, display_name) values ('acme', $1, $2)"

t.test('a write sent ahead commits with the transaction, and later statements see it', { skip: onPostgres }, async (t) => {
  const database = await acme(t)
  const seen = await inWorkspace(database.db, 'acme', async (tx) => {
    t.equal(sendAhead(tx, insertText, ['con_ahead', 'ahead']), true, 'sent ahead in a write transaction')
    const r: any = await tx.execute(sql`select count(*)::int as n from contacts where id = 'con_ahead'`)
    return (Array.isArray(r) ? r : r.rows)[0].n
  })
  t.equal(seen, 1, 'the statement ran before the next one, in the same transaction')
  t.same(await names(database.db, 'acme'), ['ahead'])
})

t.test('a write sent ahead that fails fails the transaction: nothing is written', { skip: onPostgres }, async (t) => {
  const database = await acme(t)
  await t.rejects(inWorkspace(database.db, 'acme', async (tx) => {
    await tx.execute(sql`insert into contacts (workspace_id, id, display_name) values ('acme', 'con_first', 'first')`)
    sendAhead(tx, insertText, ['con_first', 'duplicate id'])
    return 'done'
  }), { code: '23505' }, 'the failed statement\'s own error, not a bare rollback')
  t.same(await names(database.db, 'acme'), [], 'nothing was written')
  // The connection is clean for the next user.
  await inWorkspace(database.db, 'acme', (tx) => tx.execute(sql`insert into contacts (workspace_id, id, display_name) values ('acme', 'con_next', 'next')`))
  t.same(await names(database.db, 'acme'), ['next'])
})

t.test('a write sent ahead inside a savepoint fails that savepoint only', { skip: onPostgres }, async (t) => {
  const database = await acme(t)
  await inWorkspace(database.db, 'acme', async (tx) => {
    sendAhead(tx, insertText, ['con_outer', 'outer'])
    await t.rejects(tx.transaction(async (sp) => {
      sendAhead(sp, insertText, ['con_outer', 'duplicate id'])
    }), { code: '23505' }, 'the savepoint\'s caller gets the failure')
    await tx.transaction(async (sp) => { sendAhead(sp, insertText, ['con_kept', 'kept']) })
  })
  t.same(await names(database.db, 'acme'), ['kept', 'outer'])
})

t.test('a read cannot send ahead (no COMMIT would wait for it)', async (t) => {
  const database = await acme(t)
  t.equal(await readInWorkspace(database.db, 'acme', async (tx) => sendAhead(tx, insertText, ['con_r', 'r'])), false)
})
