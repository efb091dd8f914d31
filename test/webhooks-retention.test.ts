import { inArray } from 'drizzle-orm'
import t from 'tap'
import { createWebhookRetentionJob } from '../src/jobs/webhook-retention.job.js'
import { inWorkspace } from '../src/db/tenant.js'
import { webhookDeliveryAttempts } from '../src/modules/webhooks/webhooks.table.js'
import { webhookTestbed } from './support/webhooks.js'

// Retention of the delivery log: finished deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS
// (30 in testConfig) are deleted with their attempts; pending ones never are.

t.setTimeout(400_000)

const DAY_MS = 86_400_000
const { time, shared, setup, drain } = await webhookTestbed(t, 'ret')

// First, while its deliveries are the only ones in the database (retention spans workspaces).
t.test('retention deletes in small batches until nothing old is left', async (t) => {
  const many = await setup([{ status: 200 }])
  for (let i = 0; i < 5; i++) await many.contact(`contact ${i}`)
  await drain()
  t.equal((await many.deliveries()).length, 5)
  time.advance(31 * DAY_MS)
  const step = createWebhookRetentionJob({ db: shared.database.db, clock: time.clock, retentionDays: 30, batchSize: 2 })
  t.equal(await step(), true, 'a full batch: there may be more')
  t.equal((await many.deliveries()).length, 3, 'two deleted')
  t.equal(await step(), true)
  t.equal(await step(), false, 'a short batch: done')
  t.same(await many.deliveries(), [])
})

t.test('finished deliveries older than the retention go with their attempts; pending and recent ones stay', async (t) => {
  const succeeded = await setup([{ status: 200 }])
  const failed = await setup([{ status: 410 }])
  const pending = await setup([{ status: 500 }])
  const cancelled = await setup([{ status: 500 }])
  for (const s of [succeeded, failed, pending, cancelled]) await s.contact()
  await drain()
  t.equal((await cancelled.rest('PATCH', `/v1/webhook-endpoints/${cancelled.endpoint.id}`, { body: { status: 'disabled' } })).statusCode, 200)
  const status = async (s: typeof succeeded) => (await s.deliveries()).map((d) => d.status)
  t.same([await status(succeeded), await status(failed), await status(pending), await status(cancelled)], [['succeeded'], ['failed'], ['pending'], ['cancelled']])
  const old = [...await succeeded.deliveries(), ...await failed.deliveries(), ...await cancelled.deliveries()]
  const attemptsOf = async (workspace: string, ids: string[]) =>
    inWorkspace(shared.database.db, workspace, (tx) => tx.select().from(webhookDeliveryAttempts).where(inArray(webhookDeliveryAttempts.deliveryId, ids)))
  t.equal((await attemptsOf(succeeded.workspace, old.map((d) => d.id))).length, 1, 'the succeeded delivery has its attempt')

  // 29 days on: nothing is old enough yet.
  time.advance(29 * DAY_MS)
  await shared.app.jobs.webhookRetention.drain()
  t.same([await status(succeeded), await status(failed), await status(cancelled)], [['succeeded'], ['failed'], ['cancelled']], 'kept within the retention')

  // A retention of 0 keeps everything, whatever its age.
  time.advance(2 * DAY_MS)
  t.equal(await createWebhookRetentionJob({ db: shared.database.db, clock: time.clock, retentionDays: 0 })(), false)
  t.same(await status(succeeded), ['succeeded'], 'retention 0: nothing deleted')

  // 31 days on, a fresh delivery finishes; then retention runs.
  const recent = await setup([{ status: 200 }])
  await recent.contact()
  await drain()
  await shared.app.jobs.webhookRetention.drain()
  t.same(await succeeded.deliveries(), [], 'the old succeeded delivery is deleted')
  t.same(await failed.deliveries(), [], 'the old failed delivery is deleted')
  t.same(await cancelled.deliveries(), [], 'the old cancelled delivery is deleted')
  t.same((await attemptsOf(succeeded.workspace, old.map((d) => d.id))).length, 0, 'their attempts went with them')
  t.match(await pending.deliveries(), [{ status: 'pending' }], 'a pending delivery is never deleted, however old')
  t.match(await recent.deliveries(), [{ status: 'succeeded' }], 'a recent finished delivery stays')
  const [p] = await pending.deliveries()
  t.ok((await pending.rest('GET', `/v1/webhook-endpoints/${pending.endpoint.id}/deliveries/${p.id}/attempts`)).data.data.length >= 1, 'with its attempts')
})
