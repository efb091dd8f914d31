import t from 'tap'
import { build } from './helper.js'
import { assertProblem, assertValidation } from './support/problem.js'
import type { TapTest } from './support/tap.js'
import { DAY, fixtures, HOUR, iso, MINUTE, mutableClock, PROMISE_GQL, type PromiseDto } from './support/promises/index.js'

// The promise ledger over REST and GraphQL: creation, the state machine (every allowed and
// refused transition), renegotiation history, evidence, keeping through a logged interaction,
// lists, nested GraphQL, scopes and tenancy.
//
// One app for the file (PGlite start-up is slow); each subtest makes its own contacts, and the
// list test its own workspace. The scheduler polls once an hour here, so it runs only when a test
// drains it: that is how "past due, not yet seen by the scheduler" is reached on purpose.

const c = mutableClock('2026-03-04T10:00:00.000Z')
const app = await build(t, { clock: c.clock, config: { workerPollMs: 3_600_000 } })
const { rest, gql, token } = app
const f = fixtures(rest)
const tick = () => app.app.jobs.scheduler.drain()
const MISSING = 'prm_01jq0000000000000000000000'

const P = PROMISE_GQL
const M = {
  create: `mutation ($input: CreatePromiseInput!) { createPromise(input: $input) { promise { ${P} contact { id } } } }`,
  keep: `mutation ($input: KeepPromiseInput!) { keepPromise(input: $input) { promise { ${P} } } }`,
  break: `mutation ($input: ClosePromiseInput!) { breakPromise(input: $input) { promise { ${P} } } }`,
  cancel: `mutation ($input: ClosePromiseInput!) { cancelPromise(input: $input) { promise { ${P} } } }`,
  renegotiate: `mutation ($input: RenegotiatePromiseInput!) { renegotiatePromise(input: $input) { promise { ${P} events { nodes { type actor interactionId data } } } } }`
}
type Verb = 'keep' | 'break' | 'cancel' | 'renegotiate'

/** Every field but id: what a freshly made promise must say. */
function expectFresh (t: TapTest, p: PromiseDto, want: Partial<PromiseDto>, label: string) {
  const { id, ...rest } = p
  t.match(id, /^prm_[0-9a-z]{26}$/, `${label}: id`)
  t.same(rest, {
    promisor: 'tester', promisorType: 'member', description: 'Send the quote', kind: null, madeInInteractionId: null, channelId: null,
    requiresEvidence: false, status: 'open', keptAt: null, keptByInteractionIds: [], renegotiations: 0,
    createdAt: iso(c.now), updatedAt: iso(c.now), version: 1, ...want
  }, `${label}: every field`)
}

t.test('create: 201 and Location, defaults, promisor types, the interaction it was made in', async (t) => {
  const ada = await f.contact('Ada')
  const bob = await f.contact('Bob')
  const phone = await f.channel('phone')
  const call = await f.interaction({ contactId: ada.id, direction: 'inbound', kind: 'call', channelId: phone.id })
  const loose = await f.interaction({ contactId: ada.id, direction: 'inbound', kind: 'call' })
  const bobsMail = await f.interaction({ contactId: bob.id, direction: 'inbound' })
  const due = c.in(3 * DAY)

  const res = await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: 'Call back with the price', dueAt: due, kind: 'callback' } })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.headers.location, `/v1/promises/${res.data.id}`)
  expectFresh(t, res.data, { contactId: ada.id, description: 'Call back with the price', kind: 'callback', dueAt: due, originalDueAt: due }, 'defaults')
  t.same((await rest('GET', `/v1/promises/${res.data.id}`)).data, res.data, 'GET returns what POST did')
  const made = await f.events(res.data.id)
  t.match(made, [{ id: /^\d+$/ }])
  t.same(made, [{ id: made[0].id, promiseId: res.data.id, type: 'made', actor: 'tester', interactionId: null, data: { dueAt: due }, occurredAt: iso(c.now) }], 'a made event')

  const dueOffset = '2026-03-07T12:00:00+02:00'
  const offset = await f.promise({ contactId: ada.id, dueAt: dueOffset })
  t.equal(offset.dueAt, '2026-03-07T10:00:00.000Z', 'a due date with an offset is stored as the instant')

  const alice = await f.promise({ contactId: ada.id, dueAt: due }, { token: token({ sub: 'alice' }) })
  t.equal(alice.promisor, 'alice', 'promisor defaults to the token subject')
  t.equal(alice.promisorType, 'member')
  const named = await f.promise({ contactId: ada.id, dueAt: due, promisor: 'bob', promisorType: 'member' })
  t.equal(named.promisor, 'bob', 'a member promisor may be named')
  const team = await f.promise({ contactId: ada.id, dueAt: due, promisor: 'Support', promisorType: 'team' })
  t.match(team, { promisor: 'Support', promisorType: 'team' })
  const theirs = await f.promise({ contactId: ada.id, dueAt: due, promisor: 'ignored', promisorType: 'contact' })
  t.match(theirs, { promisor: ada.id, promisorType: 'contact' }, 'promisorType contact: the contact itself is the promisor')

  const madeIn = await f.promise({ contactId: ada.id, dueAt: due, madeInInteractionId: call.id })
  t.match(madeIn, { madeInInteractionId: call.id, channelId: phone.id }, 'channelId follows the interaction it was made in')
  t.equal((await f.events(madeIn.id))[0].interactionId, call.id, 'the made event names the interaction')
  const noChannel = await f.promise({ contactId: ada.id, dueAt: due, madeInInteractionId: loose.id })
  t.match(noChannel, { madeInInteractionId: loose.id, channelId: null })

  const before = (await rest('GET', `/v1/promises?contactId=${ada.id}&limit=100`)).data.data.length
  assertValidation(t, await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: 'x', dueAt: due, madeInInteractionId: bobsMail.id } }),
    [{ pointer: '/body/madeInInteractionId', code: 'invalid_reference' }], 'made in an interaction with another contact')
  assertValidation(t, await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: 'x', dueAt: due, madeInInteractionId: 'int_01jq0000000000000000000000' } }),
    [{ pointer: '/body/madeInInteractionId', code: 'invalid_reference' }], 'made in an interaction that does not exist')
  for (const [field, value] of [['status', 'kept'], ['id', MISSING], ['keptAt', due], ['version', 7], ['renegotiations', 3], ['originalDueAt', due], ['keptByInteractionIds', [call.id]], ['channelId', phone.id], ['createdAt', due]] as const) {
    assertValidation(t, await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: 'x', dueAt: due, [field]: value } }),
      [{ pointer: `/body/${field}`, code: 'unknown_field' }], `mass assignment: ${field}`)
  }
  assertValidation(t, await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: 'x' } }), [{ pointer: '/body/dueAt' }], 'dueAt is required')
  assertValidation(t, await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: 'x', dueAt: '2026-03-07T10:00:00' } }), [{ pointer: '/body/dueAt' }], 'dueAt needs an offset')
  assertValidation(t, await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: 'x', dueAt: due, promisorType: 'robot' } }), [{ pointer: '/body/promisorType' }], 'unknown promisorType')
  assertValidation(t, await rest('POST', '/v1/promises', { body: { contactId: ada.id, description: '  ', dueAt: due } }), [{ pointer: '/body/description' }], 'blank description')
  assertProblem(t, await rest('POST', '/v1/promises', { body: { contactId: 'con_01jq0000000000000000000000', description: 'x', dueAt: due } }), 404, 'contact.not_found', 'unknown contact')
  t.equal((await rest('GET', `/v1/promises?contactId=${ada.id}&limit=100`)).data.data.length, before, 'no refused create wrote anything')

  const g = await gql(M.create, { input: { contactId: ada.id, description: 'Visit', dueAt: due, promisorType: 'CONTACT', requiresEvidence: true, madeInInteractionId: call.id } })
  t.same(g.errors, undefined)
  t.match(g.data.createPromise.promise, { status: 'OPEN', promisorType: 'CONTACT', promisor: ada.id, contact: { id: ada.id }, channelId: phone.id, requiresEvidence: true, renegotiations: 0, originalDueAt: due })
  const viaRest = await f.get(g.data.createPromise.promise.id)
  t.match(viaRest, { status: 'open', promisorType: 'contact', madeInInteractionId: call.id }, 'GraphQL and REST serve the same promise')
  const gBad = await gql(M.create, { input: { contactId: ada.id, description: 'x', dueAt: due, madeInInteractionId: bobsMail.id } })
  t.equal(gBad.errors?.[0].extensions.code, 'validation.failed')
  t.equal(gBad.errors?.[0].extensions.errors[0].pointer, '/madeInInteractionId')
})

t.test('every allowed transition, REST and GraphQL', async (t) => {
  const who = await f.contact('Allowed')
  const mk = (dueInMs = 3 * DAY, extra: Record<string, unknown> = {}) => f.promise({ contactId: who.id, dueAt: c.in(dueInMs), ...extra })

  const p1 = await mk()
  const kept = await f.keep(p1.id)
  t.match(kept, { status: 'kept', keptAt: iso(c.now), keptByInteractionIds: [], version: 2 }, 'open → kept (now, before dueAt)')
  const p2 = await mk()
  const late = iso(Date.parse(p2.dueAt) + 90 * MINUTE)
  t.match(await f.keep(p2.id, { keptAt: late }), { status: 'kept_late', keptAt: late }, 'open → kept_late (keptAt after dueAt)')
  const p3 = await mk()
  t.match(await f.keep(p3.id, { keptAt: p3.dueAt }), { status: 'kept', keptAt: p3.dueAt }, 'kept exactly at dueAt is on time')
  const p4 = await mk()
  t.match(await f.break(p4.id, { reason: 'Forgot' }), { status: 'broken', keptAt: null }, 'open → broken')
  const p5 = await mk()
  t.match(await f.cancel(p5.id, { reason: 'No longer needed' }), { status: 'cancelled' }, 'open → cancelled')
  const events = await Promise.all([p1, p2, p4, p5].map((p) => f.events(p.id)))
  t.same(events.map((es) => es.map((e) => [e.type, e.actor])), [
    [['made', 'tester'], ['kept', 'tester']], [['made', 'tester'], ['kept_late', 'tester']],
    [['made', 'tester'], ['broken', 'tester']], [['made', 'tester'], ['cancelled', 'tester']]
  ], 'each verdict is one event by the caller')
  t.same(events[1][1].data, { keptAt: late, dueAt: p2.dueAt }, 'kept_late event: keptAt and the dueAt it was judged against')
  t.same(events[2][1].data, { reason: 'Forgot' }, 'broken event: the reason')
  t.same(events[3][1].data, { reason: 'No longer needed' }, 'cancelled event: the reason')

  // GraphQL, from open.
  const [g1, g2, g3, g4] = [await mk(), await mk(), await mk(), await mk()]
  const gKeep = await gql(M.keep, { input: { id: g1.id } })
  t.same(gKeep.errors, undefined)
  t.match(gKeep.data.keepPromise.promise, { status: 'KEPT', keptAt: iso(c.now) }, 'GraphQL keepPromise: OPEN → KEPT')
  const gLate = await gql(M.keep, { input: { id: g2.id, keptAt: iso(Date.parse(g2.dueAt) + HOUR) } })
  t.equal(gLate.data.keepPromise.promise.status, 'KEPT_LATE', 'GraphQL keepPromise: OPEN → KEPT_LATE')
  t.equal((await gql(M.break, { input: { id: g3.id, reason: 'x' } })).data.breakPromise.promise.status, 'BROKEN', 'GraphQL breakPromise: OPEN → BROKEN')
  t.equal((await gql(M.cancel, { input: { id: g4.id } })).data.cancelPromise.promise.status, 'CANCELLED', 'GraphQL cancelPromise: OPEN → CANCELLED')

  // From at_risk: made due in two days, then the clock enters the 24h warning window.
  const risky = await Promise.all(Array.from({ length: 7 }, () => mk(2 * DAY)))
  c.advance(DAY + HOUR)
  await tick()
  for (const p of risky) t.equal((await f.get(p.id)).status, 'at_risk', 'at_risk once inside the window')
  const [r1, r2, r3, r4, r5, r6, r7] = risky
  t.match(await f.keep(r1.id), { status: 'kept', keptAt: iso(c.now) }, 'at_risk → kept')
  t.match(await f.keep(r2.id, { keptAt: iso(Date.parse(r2.dueAt) + MINUTE) }), { status: 'kept_late' }, 'at_risk → kept_late (keptAt)')
  t.match(await f.break(r3.id), { status: 'broken' }, 'at_risk → broken')
  t.match(await f.cancel(r4.id), { status: 'cancelled' }, 'at_risk → cancelled')
  t.equal((await gql(M.keep, { input: { id: r6.id } })).data.keepPromise.promise.status, 'KEPT', 'GraphQL: AT_RISK → KEPT')
  t.equal((await gql(M.break, { input: { id: r7.id } })).data.breakPromise.promise.status, 'BROKEN', 'GraphQL: AT_RISK → BROKEN')
  t.same((await f.events(r1.id)).map((e) => [e.type, e.actor]), [['made', 'tester'], ['at_risk', 'scheduler'], ['kept', 'tester']])

  // Past dueAt, before the scheduler has looked: keeping now is kept late, by the clock.
  c.set(Date.parse(r5.dueAt) + 5 * MINUTE)
  t.match(await f.keep(r5.id), { status: 'kept_late', keptAt: iso(c.now) }, 'at_risk → kept_late (the clock is past dueAt)')
  await tick()
  t.equal((await f.get(r5.id)).status, 'kept_late', 'the scheduler leaves a kept promise alone')
  t.same((await f.events(r5.id)).map((e) => e.type), ['made', 'at_risk', 'kept_late'])
})

t.test('every refused transition is a 409 promise.invalid_transition naming from and to, and changes nothing', async (t) => {
  const who = await f.contact('Refused')
  const mk = () => f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  const closed: Record<string, PromiseDto> = {
    kept: await f.keep((await mk()).id),
    kept_late: await f.keep((await mk()).id, { keptAt: c.in(4 * DAY) }),
    broken: await f.break((await mk()).id),
    cancelled: await f.cancel((await mk()).id)
  }
  const eventCounts = Object.fromEntries(await Promise.all(Object.entries(closed).map(async ([s, p]) => [s, (await f.events(p.id)).length])))
  const attempts: Array<[Verb, Record<string, unknown>, string]> = [
    ['keep', {}, 'kept'],
    ['keep', { keptAt: c.in(5 * DAY) }, 'kept_late'],
    ['break', { reason: 'x' }, 'broken'],
    ['cancel', {}, 'cancelled'],
    ['renegotiate', { dueAt: c.in(9 * DAY), reason: 'More time' }, 'renegotiated']
  ]
  for (const [from, p] of Object.entries(closed)) {
    t.equal(p.status, from)
    for (const [verb, body, to] of attempts) {
      // A broken promise may still be kept late: tested on its own below.
      if (from === 'broken' && to === 'kept_late') continue
      const label = `REST ${from} → ${to}`
      const problem = assertProblem(t, await rest('POST', `/v1/promises/${p.id}/${verb}`, { body }), 409, 'promise.invalid_transition', label)
      t.equal(problem.from, from, `${label}: from`)
      t.equal(problem.to, to, `${label}: to`)
      t.same(problem.allowed, from === 'broken' ? ['kept_late'] : [], `${label}: what is still allowed from a closed promise`)

      const g = await gql(M[verb], { input: { id: p.id, ...body } })
      t.equal(g.errors?.[0].extensions.code, 'promise.invalid_transition', `GraphQL ${from} → ${to}`)
      t.equal(g.errors?.[0].extensions.from, from, `GraphQL ${from} → ${to}: from`)
      t.equal(g.errors?.[0].extensions.to, to, `GraphQL ${from} → ${to}: to`)
    }
    t.same(await f.get(p.id), p, `${from}: unchanged`)
    t.equal((await f.events(p.id)).length, eventCounts[from], `${from}: no event added`)
  }

  // A closed promise that required evidence says it is closed, not that evidence is missing.
  const needsProof = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), requiresEvidence: true })
  await f.cancel(needsProof.id)
  const p = assertProblem(t, await rest('POST', `/v1/promises/${needsProof.id}/keep`, { body: {} }), 409, 'promise.invalid_transition', 'keep a cancelled promise that requires evidence')
  t.match(p, { from: 'cancelled', to: 'kept' })

  for (const verb of ['keep', 'break', 'cancel'] as const) {
    assertProblem(t, await rest('POST', `/v1/promises/${MISSING}/${verb}`, { body: {} }), 404, 'promise.not_found', `${verb} an unknown promise`)
  }
  assertProblem(t, await rest('POST', `/v1/promises/${MISSING}/renegotiate`, { body: { dueAt: c.in(DAY * 5), reason: 'x' } }), 404, 'promise.not_found', 'renegotiate an unknown promise')
  assertProblem(t, await rest('GET', `/v1/promises/${MISSING}`), 404, 'promise.not_found', 'get an unknown promise')
  assertProblem(t, await rest('GET', `/v1/promises/${MISSING}/events`), 404, 'promise.not_found', 'events of an unknown promise')
})

t.test('renegotiation: new terms, history kept, never into the past', async (t) => {
  const who = await f.contact('Renegotiated')
  const stranger = await f.contact('Stranger')
  const talk = await f.interaction({ contactId: who.id, direction: 'inbound', kind: 'call' })
  const elsewhere = await f.interaction({ contactId: stranger.id, direction: 'inbound', kind: 'call' })
  const d1 = c.in(3 * DAY)
  const p = await f.promise({ contactId: who.id, dueAt: d1 })
  const madeAt = iso(c.now)

  const d2 = c.in(5 * DAY)
  const r1 = await f.renegotiate(p.id, { dueAt: d2, reason: 'Waiting on the supplier', interactionId: talk.id })
  t.match(r1, { dueAt: d2, originalDueAt: d1, renegotiations: 1, status: 'open', version: 2 })
  c.advance(HOUR)
  const d3 = c.in(6 * DAY)
  const r2 = await f.renegotiate(p.id, { dueAt: d3, reason: 'Holiday' }, { token: token({ sub: 'bob' }) })
  t.match(r2, { dueAt: d3, originalDueAt: d1, renegotiations: 2, status: 'open', version: 3 }, 'originalDueAt never moves')

  const events = await f.events(p.id)
  t.same(events.map(({ id, promiseId, ...e }) => e), [
    { type: 'made', actor: 'tester', interactionId: null, data: { dueAt: d1 }, occurredAt: madeAt },
    { type: 'renegotiated', actor: 'tester', interactionId: talk.id, data: { fromDueAt: d1, toDueAt: d2, reason: 'Waiting on the supplier', fromStatus: 'open', toStatus: 'open' }, occurredAt: madeAt },
    { type: 'renegotiated', actor: 'bob', interactionId: null, data: { fromDueAt: d2, toDueAt: d3, reason: 'Holiday', fromStatus: 'open', toStatus: 'open' }, occurredAt: iso(c.now) }
  ], 'each renegotiation is an event: old and new dates, reason, interaction, actor')
  t.ok(events.every((e) => e.promiseId === p.id))
  t.ok(Number(events[0].id) < Number(events[1].id) && Number(events[1].id) < Number(events[2].id), 'events in order')

  const url = `/v1/promises/${p.id}/renegotiate`
  assertValidation(t, await rest('POST', url, { body: { dueAt: c.in(-HOUR), reason: 'Oops' } }), [{ pointer: '/body/dueAt', code: 'too_small' }], 'renegotiating into the past')
  assertValidation(t, await rest('POST', url, { body: { dueAt: iso(c.now), reason: 'Oops' } }), [{ pointer: '/body/dueAt', code: 'too_small' }], 'renegotiating to now')
  assertValidation(t, await rest('POST', url, { body: { dueAt: c.in(DAY) } }), [{ pointer: '/body/reason' }], 'a reason is required')
  assertValidation(t, await rest('POST', url, { body: { dueAt: c.in(DAY), reason: 'x', interactionId: elsewhere.id } }), [{ pointer: '/body/interactionId', code: 'invalid_reference' }], 'agreed in an interaction with someone else')
  assertValidation(t, await rest('POST', url, { body: { dueAt: c.in(DAY), reason: 'x', interactionId: 'int_01jq0000000000000000000000' } }), [{ pointer: '/body/interactionId', code: 'invalid_reference' }], 'agreed in an interaction that does not exist')
  assertValidation(t, await rest('POST', url, { body: { dueAt: c.in(DAY), reason: 'x', status: 'open' } }), [{ pointer: '/body/status', code: 'unknown_field' }], 'no status in a renegotiation')
  t.same(await f.get(p.id), r2, 'refused renegotiations change nothing')
  t.equal((await f.events(p.id)).length, 3)

  // Kept after the original date but before the renegotiated one: on time, against the terms in force.
  const kept = await f.keep(p.id, { keptAt: iso(Date.parse(d1) + DAY) })
  t.match(kept, { status: 'kept', renegotiations: 2, originalDueAt: d1, dueAt: d3 })

  // at_risk: renegotiating inside the window stays at_risk; far enough, it is open again.
  const risky = await f.promise({ contactId: who.id, dueAt: c.in(2 * DAY) })
  c.advance(DAY + HOUR)
  await tick()
  t.equal((await f.get(risky.id)).status, 'at_risk')
  const near = c.in(12 * HOUR)
  t.match(await f.renegotiate(risky.id, { dueAt: near, reason: 'A little later' }), { status: 'at_risk', dueAt: near, renegotiations: 1 }, 'still inside the window: at_risk')
  const far = c.in(10 * DAY)
  t.match(await f.renegotiate(risky.id, { dueAt: far, reason: 'Much later' }), { status: 'open', dueAt: far, renegotiations: 2 }, 'outside the window: open again')
  await tick()
  t.equal((await f.get(risky.id)).status, 'open', 'the scheduler follows the new date')
  t.same((await f.events(risky.id)).filter((e) => e.type === 'renegotiated').map((e) => [e.data.fromStatus, e.data.toStatus]), [['at_risk', 'at_risk'], ['at_risk', 'open']])

  // GraphQL.
  const gp = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  const gd = c.in(4 * DAY)
  const g = await gql(M.renegotiate, { input: { id: gp.id, dueAt: gd, reason: 'Asked for more time', interactionId: talk.id } })
  t.same(g.errors, undefined)
  t.match(g.data.renegotiatePromise.promise, { status: 'OPEN', dueAt: gd, originalDueAt: gp.dueAt, renegotiations: 1 })
  t.same(g.data.renegotiatePromise.promise.events.nodes.map((e: any) => e.type), ['MADE', 'RENEGOTIATED'], 'GraphQL event types are UPPER_CASE')
  t.same(g.data.renegotiatePromise.promise.events.nodes[1], { type: 'RENEGOTIATED', actor: 'tester', interactionId: talk.id, data: { fromDueAt: gp.dueAt, toDueAt: gd, reason: 'Asked for more time', fromStatus: 'open', toStatus: 'open' } })
  const gPast = await gql(M.renegotiate, { input: { id: gp.id, dueAt: c.in(-DAY), reason: 'x' } })
  t.equal(gPast.errors?.[0].extensions.code, 'validation.failed')
  t.equal(gPast.errors?.[0].extensions.errors[0].pointer, '/dueAt')
  t.equal((await f.get(gp.id)).renegotiations, 1)
})

t.test('evidence: outbound, to this contact, after the promise', async (t) => {
  const who = await f.contact('Evidence')
  const other = await f.contact('Someone else')
  const earlier = await f.interaction({ contactId: who.id, direction: 'outbound', occurredAt: c.in(-HOUR) })
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), requiresEvidence: true })
  t.equal(p.requiresEvidence, true)
  const url = `/v1/promises/${p.id}/keep`

  assertProblem(t, await rest('POST', url, { body: {} }), 409, 'promise.evidence_required', 'no evidence')
  assertProblem(t, await rest('POST', url, { body: { interactionIds: [] } }), 409, 'promise.evidence_required', 'empty evidence')
  c.advance(MINUTE)
  const inbound = await f.interaction({ contactId: who.id, direction: 'inbound' })
  const toOther = await f.interaction({ contactId: other.id, direction: 'outbound' })
  const good = await f.interaction({ contactId: who.id, direction: 'outbound' })
  assertValidation(t, await rest('POST', url, { body: { interactionIds: [inbound.id] } }), [{ pointer: '/body/interactionIds/0', code: 'invalid_evidence' }], 'an inbound interaction')
  assertValidation(t, await rest('POST', url, { body: { interactionIds: [earlier.id] } }), [{ pointer: '/body/interactionIds/0', code: 'invalid_evidence' }], 'an interaction before the promise')
  assertValidation(t, await rest('POST', url, { body: { interactionIds: [toOther.id] } }), [{ pointer: '/body/interactionIds/0', code: 'invalid_evidence' }], 'an interaction with another contact')
  assertValidation(t, await rest('POST', url, { body: { interactionIds: ['int_01jq0000000000000000000000'] } }), [{ pointer: '/body/interactionIds/0', code: 'invalid_evidence' }], 'an interaction that does not exist')
  assertValidation(t, await rest('POST', url, { body: { interactionIds: [good.id, inbound.id] } }), [{ pointer: '/body/interactionIds/1', code: 'invalid_evidence' }], 'one bad piece of evidence among good ones')
  t.same(await f.get(p.id), p, 'refused keeps change nothing')
  t.same((await f.events(p.id)).map((e) => e.type), ['made'])

  const kept = await f.keep(p.id, { interactionIds: [good.id] })
  t.match(kept, { status: 'kept', keptByInteractionIds: [good.id], keptAt: iso(c.now) }, 'an outbound interaction after the promise is accepted')
  const last = (await f.events(p.id)).at(-1)!
  t.match(last, { type: 'kept', interactionId: good.id, data: { keptAt: iso(c.now), dueAt: p.dueAt } })

  // Evidence is checked even where it is not required.
  const optional = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  assertValidation(t, await rest('POST', `/v1/promises/${optional.id}/keep`, { body: { interactionIds: [inbound.id] } }), [{ pointer: '/body/interactionIds/0' }], 'optional evidence is still checked')

  // GraphQL keeps with evidence and shows it through keptBy.
  const gp = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), requiresEvidence: true })
  const gNone = await gql(M.keep, { input: { id: gp.id } })
  t.equal(gNone.errors?.[0].extensions.code, 'promise.evidence_required')
  const gInbound = await gql(M.keep, { input: { id: gp.id, interactionIds: [inbound.id] } })
  t.equal(gInbound.errors?.[0].extensions.errors[0].pointer, '/interactionIds/0')
  c.advance(MINUTE)
  const proof = await f.interaction({ contactId: who.id, direction: 'outbound', kind: 'call' })
  const g = await gql(`mutation ($input: KeepPromiseInput!) { keepPromise(input: $input) { promise { status keptBy { nodes { id direction kind } } } } }`, { input: { id: gp.id, interactionIds: [proof.id] } })
  t.same(g.errors, undefined)
  t.same(g.data.keepPromise.promise, { status: 'KEPT', keptBy: { nodes: [{ id: proof.id, direction: 'OUTBOUND', kind: 'CALL' }] } })
})

t.test('POST /v1/interactions with keepsPromiseIds keeps in the same request, or writes nothing', async (t) => {
  const who = await f.contact('Kept by mail')
  const other = await f.contact('Not them')
  const interactionsOf = async (id: string) => (await rest('GET', `/v1/interactions?contactId=${id}&limit=100`)).data.data.length
  const p1 = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), requiresEvidence: true })
  const p2 = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  c.advance(MINUTE)
  const at = iso(c.now)
  const res = await rest('POST', '/v1/interactions', { body: { contactId: who.id, direction: 'outbound', kind: 'email', subject: 'Your quote', occurredAt: at, keepsPromiseIds: [p1.id, p2.id] } })
  t.equal(res.statusCode, 201, res.body)
  for (const p of [p1, p2]) {
    const now = await f.get(p.id)
    t.match(now, { status: 'kept', keptAt: at, keptByInteractionIds: [res.data.id] }, 'kept by the interaction, at its time')
    t.match((await f.events(p.id)).at(-1), { type: 'kept', interactionId: res.data.id, actor: 'tester' })
  }

  const q = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  const closed = await f.cancel((await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })).id)
  const theirs = await f.promise({ contactId: other.id, dueAt: c.in(3 * DAY) })
  c.advance(MINUTE)
  const count = await interactionsOf(who.id)
  const log = (body: Record<string, unknown>) => rest('POST', '/v1/interactions', { body: { contactId: who.id, direction: 'outbound', kind: 'email', ...body } })
  assertValidation(t, await log({ keepsPromiseIds: [q.id, MISSING] }), [{ pointer: '/body/keepsPromiseIds/1', code: 'invalid_reference' }], 'an unknown promise id')
  assertValidation(t, await log({ keepsPromiseIds: [q.id, theirs.id] }), [{ pointer: '/body/keepsPromiseIds/1', code: 'invalid_evidence' }], 'a promise to another contact')
  assertValidation(t, await log({ direction: 'inbound', keepsPromiseIds: [q.id] }), [{ pointer: '/body/keepsPromiseIds/0', code: 'invalid_evidence' }], 'an inbound interaction keeps nothing')
  assertValidation(t, await log({ occurredAt: c.in(-DAY), keepsPromiseIds: [q.id] }), [{ pointer: '/body/keepsPromiseIds/0', code: 'invalid_evidence' }], 'an interaction before the promise')
  const problem = assertProblem(t, await log({ keepsPromiseIds: [q.id, closed.id] }), 409, 'promise.invalid_transition', 'a cancelled promise')
  t.match(problem, { from: 'cancelled', to: 'kept' })
  assertValidation(t, await log({ keepsPromiseIds: ['  '] }), [{ pointer: '/body/keepsPromiseIds/0' }], 'a blank id')
  t.equal(await interactionsOf(who.id), count, 'no interaction was logged')
  t.match(await f.get(q.id), { status: 'open', version: 1, keptByInteractionIds: [] }, 'the good promise in a failed request is untouched')
  t.same((await f.events(q.id)).map((e) => e.type), ['made'])
  t.equal((await f.get(theirs.id)).status, 'open')

  // Logged after dueAt, before the scheduler ran: kept late, at the interaction's time.
  const soon = await f.promise({ contactId: who.id, dueAt: c.in(2 * HOUR) })
  c.advance(3 * HOUR)
  const lateMail = await f.interaction({ contactId: who.id, direction: 'outbound', keepsPromiseIds: [soon.id] })
  t.match(await f.get(soon.id), { status: 'kept_late', keptAt: lateMail.occurredAt, keptByInteractionIds: [lateMail.id] })

  // GraphQL logInteraction does the same.
  const gq = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  const g = await gql('mutation ($input: LogInteractionInput!) { logInteraction(input: $input) { interaction { id } } }',
    { input: { contactId: who.id, direction: 'OUTBOUND', kind: 'CALL', keepsPromiseIds: [gq.id] } })
  t.same(g.errors, undefined)
  const read = await gql('query ($id: ID!) { promise(id: $id) { status keptBy { nodes { id } } } }', { id: gq.id })
  t.same(read.data.promise, { status: 'KEPT', keptBy: { nodes: [{ id: g.data.logInteraction.interaction.id }] } })
  const gBad = await gql('mutation ($input: LogInteractionInput!) { logInteraction(input: $input) { interaction { id } } }',
    { input: { contactId: who.id, direction: 'OUTBOUND', kind: 'CALL', keepsPromiseIds: [MISSING] } })
  t.equal(gBad.errors?.[0].extensions.errors[0].pointer, '/keepsPromiseIds/0')
})

t.test('lists: filters, newest first, keyset pagination with a Link header', async (t) => {
  const tl = token({ workspace: 'lists' })
  const fl = fixtures(rest, tl)
  const c1 = await fl.contact('List one')
  const c2 = await fl.contact('List two')
  const L1 = await fl.promise({ contactId: c1.id, kind: 'callback', dueAt: c.in(3 * DAY) })
  const L2 = await fl.promise({ contactId: c1.id, kind: 'quote', promisor: 'sales', promisorType: 'team', dueAt: c.in(4 * DAY) })
  const L3 = await fl.promise({ contactId: c2.id, kind: 'callback', dueAt: c.in(5 * DAY) })
  const L4 = await fl.promise({ contactId: c2.id, kind: 'callback', promisor: 'sales', promisorType: 'team', dueAt: c.in(6 * DAY) })
  const L5 = await fl.promise({ contactId: c1.id, kind: 'quote', dueAt: c.in(7 * DAY) })
  const L6 = await fl.promise({ contactId: c2.id, kind: 'quote', dueAt: c.in(8 * DAY) })
  await fl.keep(L1.id)
  await fl.break(L3.id)
  await fl.cancel(L5.id)
  const list = async (q: string) => {
    const res = await rest('GET', `/v1/promises?limit=100${q}`, { token: tl })
    t.equal(res.statusCode, 200, res.body)
    return (res.data.data as PromiseDto[]).map((p) => p.id)
  }
  const ids = (...ps: PromiseDto[]) => ps.map((p) => p.id)

  t.same(await list(''), ids(L6, L5, L4, L3, L2, L1), 'newest first')
  t.same(await list('&status=open'), ids(L6, L4, L2))
  t.same(await list('&status=kept'), ids(L1))
  t.same(await list('&status=broken'), ids(L3))
  t.same(await list('&status=cancelled'), ids(L5))
  t.same(await list('&status=at_risk'), [])
  t.same(await list(`&contactId=${c1.id}`), ids(L5, L2, L1))
  t.same(await list(`&contactId=${c2.id}`), ids(L6, L4, L3))
  t.same(await list('&promisor=sales'), ids(L4, L2))
  t.same(await list('&promisor=tester'), ids(L6, L5, L3, L1))
  t.same(await list('&kind=quote'), ids(L6, L5, L2))
  t.same(await list('&kind=callback'), ids(L4, L3, L1))
  t.same(await list(`&dueBefore=${L4.dueAt}`), ids(L3, L2, L1), 'dueBefore is exclusive')
  t.same(await list(`&dueAfter=${L4.dueAt}`), ids(L6, L5, L4), 'dueAfter is inclusive')
  t.same(await list(`&dueAfter=${L2.dueAt}&dueBefore=${L5.dueAt}`), ids(L4, L3, L2))
  t.same(await list(`&contactId=${c1.id}&kind=quote`), ids(L5, L2), 'filters combine')
  t.same(await list('&status=open&promisor=sales'), ids(L4, L2))

  // Paging: follow the Link header to the end.
  const walk = async (first: string) => {
    const pages: string[][] = []
    let url: string | null = first
    while (url) {
      const res = await rest('GET', url, { token: tl })
      t.equal(res.statusCode, 200, res.body)
      pages.push((res.data.data as PromiseDto[]).map((p) => p.id))
      const link = res.headers.link as string | undefined
      if (res.data.nextCursor) {
        const m = /^<([^>]+)>; rel="next"$/.exec(link ?? '')
        t.ok(m, `Link header on ${url}: ${link}`)
        t.equal(new URL(m![1], 'http://x').searchParams.get('after'), res.data.nextCursor, 'the Link carries nextCursor')
        url = m![1]
      } else {
        t.equal(link, undefined, 'no Link on the last page')
        url = null
      }
      if (pages.length > 10) throw new Error('paging does not end')
    }
    return pages
  }
  t.same(await walk('/v1/promises?limit=2'), [ids(L6, L5), ids(L4, L3), ids(L2, L1)], 'three pages of two')
  const open = await walk('/v1/promises?limit=1&status=open')
  t.same(open, [ids(L6), ids(L4), ids(L2)], 'the Link keeps the filter')

  assertValidation(t, await rest('GET', '/v1/promises?status=late', { token: tl }), [{ pointer: '/querystring/status' }], 'unknown status')
  assertValidation(t, await rest('GET', '/v1/promises?limit=0', { token: tl }), [{ pointer: '/querystring/limit' }], 'limit 0')
  assertValidation(t, await rest('GET', '/v1/promises?limit=101', { token: tl }), [{ pointer: '/querystring/limit' }], 'limit over 100')
  assertValidation(t, await rest('GET', '/v1/promises?dueBefore=tomorrow', { token: tl }), [{ pointer: '/querystring/dueBefore' }], 'dueBefore not an instant')
  assertProblem(t, await rest('GET', '/v1/promises?after=not-a-cursor', { token: tl }), 400, 'request.invalid_cursor', 'bad cursor')

  const q = 'query ($first: Int, $after: String, $filter: PromiseFilter) { promises(first: $first, after: $after, filter: $filter) { nodes { id status } pageInfo { hasNextPage endCursor } } }'
  const g1 = await gql(q, { first: 1, filter: { status: 'OPEN', promisor: 'sales' } }, { token: tl })
  t.same(g1.errors, undefined)
  t.same(g1.data.promises.nodes, [{ id: L4.id, status: 'OPEN' }])
  t.equal(g1.data.promises.pageInfo.hasNextPage, true)
  const g2 = await gql(q, { first: 1, after: g1.data.promises.pageInfo.endCursor, filter: { status: 'OPEN', promisor: 'sales' } }, { token: tl })
  t.same(g2.data.promises.nodes, [{ id: L2.id, status: 'OPEN' }])
  t.equal(g2.data.promises.pageInfo.hasNextPage, false)
  const g3 = await gql(q, { first: 10, filter: { contactId: c2.id, dueAfter: L4.dueAt } }, { token: tl })
  t.same(g3.data.promises.nodes.map((n: any) => n.id), ids(L6, L4))
})

t.test('GraphQL: Contact.promises, Promise.contact/madeIn/keptBy/events, Interaction.promisesMade', async (t) => {
  const who = await f.contact('Nested')
  const phone = await f.channel('phone', 'Nested phone')
  const call = await f.interaction({ contactId: who.id, direction: 'inbound', kind: 'call', channelId: phone.id })
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), kind: 'callback', madeInInteractionId: call.id })
  const q = await f.promise({ contactId: who.id, dueAt: c.in(4 * DAY) })
  c.advance(MINUTE)
  const reply = await f.interaction({ contactId: who.id, direction: 'outbound', kind: 'call', channelId: phone.id })
  const kept = await f.keep(p.id, { interactionIds: [reply.id] })

  const one = 'query ($id: ID!) { promise(id: $id) { id status promisorType kind channelId contact { id displayName } madeIn { id direction kind } keptBy { totalCount nodes { id direction } } events { totalCount nodes { type actor interactionId data } } } }'
  const gp = await gql(one, { id: p.id })
  t.same(gp.errors, undefined)
  t.same(gp.data.promise, {
    id: p.id, status: 'KEPT', promisorType: 'MEMBER', kind: 'callback', channelId: phone.id,
    contact: { id: who.id, displayName: 'Nested' },
    madeIn: { id: call.id, direction: 'INBOUND', kind: 'CALL' },
    keptBy: { totalCount: 1, nodes: [{ id: reply.id, direction: 'OUTBOUND' }] },
    events: {
      totalCount: 2,
      nodes: [
        { type: 'MADE', actor: 'tester', interactionId: call.id, data: { dueAt: p.dueAt } },
        { type: 'KEPT', actor: 'tester', interactionId: reply.id, data: { keptAt: kept.keptAt, dueAt: p.dueAt } }
      ]
    }
  })
  const gq = await gql(one, { id: q.id })
  t.match(gq.data.promise, { status: 'OPEN', madeIn: null, keptBy: { totalCount: 0, nodes: [] }, channelId: null })

  const ofContact = await gql('query ($id: ID!) { contact(id: $id) { all: promises(first: 10) { nodes { id } } kept: promises(status: KEPT) { nodes { id } } page: promises(first: 1) { nodes { id } pageInfo { hasNextPage } } } }', { id: who.id })
  t.same(ofContact.errors, undefined)
  t.same(ofContact.data.contact.all.nodes, [{ id: q.id }, { id: p.id }], 'newest first')
  t.same(ofContact.data.contact.kept.nodes, [{ id: p.id }])
  t.same(ofContact.data.contact.page, { nodes: [{ id: q.id }], pageInfo: { hasNextPage: true } })

  const made = await gql('query ($a: ID!, $b: ID!) { a: interaction(id: $a) { promisesMade { nodes { id } } } b: interaction(id: $b) { promisesMade { nodes { id } } } }', { a: call.id, b: reply.id })
  t.same(made.errors, undefined)
  t.same(made.data, { a: { promisesMade: { nodes: [{ id: p.id }] } }, b: { promisesMade: { nodes: [] } } })

  const missing = await gql('query ($id: ID!) { promise(id: $id) { id } }', { id: MISSING })
  t.equal(missing.data.promise, null)
  t.equal(missing.errors?.[0].extensions.code, 'promise.not_found')
})

t.test('scopes: promises:read and promises:write', async (t) => {
  const who = await f.contact('Scoped')
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  const call = await f.interaction({ contactId: who.id, direction: 'inbound', kind: 'call' })
  await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), madeInInteractionId: call.id })
  const readOnly = token({ scopes: ['promises:read', 'contacts:read', 'interactions:read'] })
  const writeOnly = token({ scopes: ['promises:write', 'contacts:read', 'interactions:read'] })

  const writes: Array<[string, string, unknown]> = [
    ['POST', '/v1/promises', { contactId: who.id, description: 'x', dueAt: c.in(DAY * 3) }],
    ['POST', `/v1/promises/${p.id}/keep`, {}],
    ['POST', `/v1/promises/${p.id}/break`, {}],
    ['POST', `/v1/promises/${p.id}/cancel`, {}],
    ['POST', `/v1/promises/${p.id}/renegotiate`, { dueAt: c.in(DAY * 5), reason: 'x' }]
  ]
  for (const [method, url, body] of writes) {
    const problem = assertProblem(t, await rest(method, url, { token: readOnly, body }), 403, 'auth.forbidden', `${method} ${url} without promises:write`)
    t.equal(problem.requiredScope, 'promises:write')
  }
  for (const url of ['/v1/promises', `/v1/promises/${p.id}`, `/v1/promises/${p.id}/events`, '/v1/promises/stats', '/v1/promise-events', '/v1/attention']) {
    const problem = assertProblem(t, await rest('GET', url, { token: writeOnly }), 403, 'auth.forbidden', `GET ${url} without promises:read`)
    t.equal(problem.requiredScope, 'promises:read')
  }

  const mutations: Array<[string, Record<string, unknown>]> = [
    [M.create, { input: { contactId: who.id, description: 'x', dueAt: c.in(DAY * 3) } }],
    [M.keep, { input: { id: p.id } }],
    [M.break, { input: { id: p.id } }],
    [M.cancel, { input: { id: p.id } }],
    [M.renegotiate, { input: { id: p.id, dueAt: c.in(DAY * 5), reason: 'x' } }]
  ]
  for (const [query, variables] of mutations) {
    const g = await gql(query, variables, { token: readOnly })
    t.equal(g.errors?.[0].extensions.code, 'auth.forbidden', `${query.slice(0, 40)}… without promises:write`)
  }
  const queries: Array<[string, Record<string, unknown>]> = [
    ['query ($id: ID!) { promise(id: $id) { id } }', { id: p.id }],
    ['{ promises { nodes { id } } }', {}],
    ['{ promiseStats { made } }', {}],
    ['{ promiseEvents { nodes { id } } }', {}],
    ['{ attention { promises { nodes { id } } } }', {}],
    ['query ($id: ID!) { contact(id: $id) { promises { nodes { id } } } }', { id: who.id }],
    ['query ($id: ID!) { interaction(id: $id) { promisesMade { nodes { id } } } }', { id: call.id }]
  ]
  for (const [query, variables] of queries) {
    const g = await gql(query, variables, { token: writeOnly })
    t.equal(g.errors?.[0].extensions.code, 'auth.forbidden', `${query} without promises:read`)
    t.notMatch(JSON.stringify(g.data ?? null), /prm_/, `${query}: no promise leaks`)
  }
  t.same(await f.get(p.id), p, 'nothing changed')
  t.same((await f.events(p.id)).map((e) => e.type), ['made'])
})

t.test('tenancy: another workspace\'s promise is a 404 everywhere and changes nothing', async (t) => {
  const globex = token({ workspace: 'globex' })
  const fg = fixtures(rest, globex)
  const who = await f.contact('Acme customer')
  const call = await f.interaction({ contactId: who.id, direction: 'inbound', kind: 'call' })
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), madeInInteractionId: call.id })
  const events = await f.events(p.id)

  for (const [method, url, body] of [
    ['GET', `/v1/promises/${p.id}`], ['GET', `/v1/promises/${p.id}/events`],
    ['POST', `/v1/promises/${p.id}/keep`, {}], ['POST', `/v1/promises/${p.id}/break`, {}], ['POST', `/v1/promises/${p.id}/cancel`, {}],
    ['POST', `/v1/promises/${p.id}/renegotiate`, { dueAt: c.in(9 * DAY), reason: 'x' }]
  ] as const) {
    assertProblem(t, await rest(method, url, { token: globex, body }), 404, 'promise.not_found', `${method} ${url} from another workspace`)
  }
  const read = await gql('query ($id: ID!) { promise(id: $id) { id } }', { id: p.id }, { token: globex })
  t.equal(read.data.promise, null)
  t.equal(read.errors?.[0].extensions.code, 'promise.not_found')
  for (const [verb, extra] of [['keep', {}], ['break', {}], ['cancel', {}], ['renegotiate', { dueAt: c.in(9 * DAY), reason: 'x' }]] as const) {
    const g = await gql(M[verb], { input: { id: p.id, ...extra } }, { token: globex })
    t.equal(g.errors?.[0].extensions.code, 'promise.not_found', `GraphQL ${verb} from another workspace`)
  }
  for (const q of ['', `?contactId=${who.id}`, '?status=open', '?promisor=tester']) {
    t.same((await rest('GET', `/v1/promises${q}`, { token: globex })).data.data, [], `list${q} shows nothing of acme`)
  }
  t.same((await gql('{ promises(first: 100) { nodes { id } } }', {}, { token: globex })).data.promises.nodes, [])

  assertProblem(t, await rest('POST', '/v1/promises', { token: globex, body: { contactId: who.id, description: 'x', dueAt: c.in(3 * DAY) } }), 404, 'contact.not_found', 'a promise to acme\'s contact')
  const mine = await fg.contact('Globex customer')
  assertValidation(t, await rest('POST', '/v1/promises', { token: globex, body: { contactId: mine.id, description: 'x', dueAt: c.in(3 * DAY), madeInInteractionId: call.id } }),
    [{ pointer: '/body/madeInInteractionId' }], 'made in acme\'s interaction')
  const own = await fg.promise({ contactId: mine.id, dueAt: c.in(3 * DAY) })
  assertValidation(t, await rest('POST', `/v1/promises/${own.id}/keep`, { token: globex, body: { interactionIds: [call.id] } }),
    [{ pointer: '/body/interactionIds/0' }], 'acme\'s interaction as evidence')
  const before = (await rest('GET', `/v1/interactions?contactId=${mine.id}`, { token: globex })).data.data.length
  assertValidation(t, await rest('POST', '/v1/interactions', { token: globex, body: { contactId: mine.id, direction: 'outbound', kind: 'email', keepsPromiseIds: [p.id] } }),
    [{ pointer: '/body/keepsPromiseIds/0', code: 'invalid_reference' }], 'keeping acme\'s promise from globex')
  t.equal((await rest('GET', `/v1/interactions?contactId=${mine.id}`, { token: globex })).data.data.length, before, 'nothing logged')

  t.same(await f.get(p.id), p, 'acme\'s promise is unchanged')
  t.same(await f.events(p.id), events, 'and has no new event')
  t.equal((await fg.get(own.id)).status, 'open')
})

t.test('a broken promise kept after its due date becomes kept_late; kept on time is refused', async (t) => {
  const who = await f.contact('Late deliverer')
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  await f.break(p.id, { reason: 'missed it' })
  const early = await rest('POST', `/v1/promises/${p.id}/keep`, { body: { keptAt: c.in(1 * DAY) } })
  assertProblem(t, early, 409, 'promise.invalid_transition', 'broken → kept (a keptAt before the due date) is refused')
  const late = await rest('POST', `/v1/promises/${p.id}/keep`, { body: { keptAt: c.in(4 * DAY) } })
  t.equal(late.statusCode, 200, late.body)
  t.equal(late.data.status, 'kept_late')
  t.same((await f.events(p.id)).map((e) => e.type), ['made', 'broken', 'kept_late'], 'the history keeps both verdicts')
  const again = await rest('POST', `/v1/promises/${p.id}/keep`, { body: { keptAt: c.in(5 * DAY) } })
  assertProblem(t, again, 409, 'promise.invalid_transition', 'kept_late is final')
})

t.test('keepsPromiseIds needs promises:write as well: a token that may only log interactions cannot keep promises', async (t) => {
  const who = await f.contact('Scoped keeper')
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  c.advance(MINUTE)
  const logOnly = token({ scopes: ['interactions:write', 'interactions:read', 'contacts:read'] })
  const countOf = async () => (await rest('GET', `/v1/interactions?contactId=${who.id}&limit=100`)).data.data.length
  const before = await countOf()
  const body = { contactId: who.id, direction: 'outbound', kind: 'email', subject: 'Done', keepsPromiseIds: [p.id] }
  const refused = assertProblem(t, await rest('POST', '/v1/interactions', { token: logOnly, body }), 403, 'auth.forbidden', 'REST')
  t.equal(refused.requiredScope, 'promises:write', 'the problem names the missing scope')
  const g = await gql('mutation ($input: LogInteractionInput!) { logInteraction(input: $input) { interaction { id } } }',
    { input: { contactId: who.id, direction: 'OUTBOUND', kind: 'EMAIL', keepsPromiseIds: [p.id] } }, { token: logOnly })
  t.equal(g.errors?.[0].extensions.code, 'auth.forbidden', 'GraphQL: the same refusal')
  t.equal(await countOf(), before, 'no interaction was logged')
  t.match(await f.get(p.id), { status: 'open', version: 1 }, 'the promise is untouched')
  const plain = await rest('POST', '/v1/interactions', { token: logOnly, body: { contactId: who.id, direction: 'outbound', kind: 'email', subject: 'Just a mail' } })
  t.equal(plain.statusCode, 201, 'the same token logs an interaction that keeps nothing')
  t.equal((await rest('POST', '/v1/interactions', { token: token({ scopes: ['interactions:write', 'promises:write'] }), body })).statusCode, 201, 'with promises:write it keeps')
  t.equal((await f.get(p.id)).status, 'kept')
})
