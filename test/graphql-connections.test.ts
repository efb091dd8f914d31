import t, { type Test } from 'tap'
import { build } from './helper.js'
import { DAY, HOUR, MINUTE, mutableClock } from './support/promises/index.js'
import { movableClock } from './support/webhooks.js'

// Every list is a full Relay connection: first/after and last/before over the same keyset
// cursors, pageInfo right in both directions, totalCount counted only when asked for.

type Gql = Awaited<ReturnType<typeof build>>['gql']
interface Conn { edges: Array<{ cursor: string, node: { id: string } }>, nodes: Array<{ id: string }>, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, totalCount?: number }

const pageFields = 'edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }'

/** `field` is a path to the connection in the answer; `query` takes $first $after $last $before. */
async function fetchPage (gql: Gql, query: string, field: string[], vars: Record<string, unknown>, token?: string) {
  const res = await gql(query, vars, { token })
  if (res.errors) return { errors: res.errors, conn: undefined as unknown as Conn }
  return { errors: undefined, conn: field.reduce((v: any, k) => v[k], res.data) as Conn }
}

async function assertConnection (t: Test, gql: Gql, name: string, query: string, field: string[], expected: string[], extra: Record<string, unknown> = {}) {
  const page = (vars: Record<string, unknown>) => fetchPage(gql, query, field, { ...extra, ...vars })
  await t.test(name, async (t) => {
    // Forward, two at a time.
    const forward: string[] = []
    let after: string | null = null
    for (let i = 0; ; i++) {
      const { conn, errors } = await page({ first: 2, after })
      t.same(errors, undefined)
      t.same(conn.nodes.map((n) => n.id), conn.edges.map((e) => e.node.id), 'nodes and edges agree')
      t.equal(conn.pageInfo.startCursor, conn.edges[0]?.cursor ?? null)
      t.equal(conn.pageInfo.endCursor, conn.edges.at(-1)?.cursor ?? null)
      t.equal(conn.pageInfo.hasPreviousPage, i > 0, `forward page ${i}: hasPreviousPage`)
      forward.push(...conn.nodes.map((n) => n.id))
      if (!conn.pageInfo.hasNextPage) break
      after = conn.pageInfo.endCursor
      if (i > expected.length) { t.fail('no end'); break }
    }
    t.same(forward, expected, 'first/after walks the whole list in order')

    // Backward, two at a time, from the end.
    const backward: string[] = []
    let before: string | null = null
    for (let i = 0; ; i++) {
      const { conn, errors } = await page({ last: 2, before })
      t.same(errors, undefined)
      t.equal(conn.pageInfo.hasNextPage, i > 0, `backward page ${i}: hasNextPage`)
      t.ok(conn.nodes.length <= 2)
      backward.unshift(...conn.nodes.map((n) => n.id))
      if (!conn.pageInfo.hasPreviousPage) break
      before = conn.pageInfo.startCursor
      if (i > expected.length) { t.fail('no end'); break }
    }
    t.same(backward, expected, 'last/before walks the whole list back, each page in list order')

    // Boundaries.
    const all = await page({ first: expected.length })
    t.same(all.conn.nodes.map((n) => n.id), expected)
    t.equal(all.conn.pageInfo.hasNextPage, false, 'first = size: no next page')
    const tail = await page({ last: expected.length })
    t.same(tail.conn.nodes.map((n) => n.id), expected)
    t.equal(tail.conn.pageInfo.hasPreviousPage, false, 'last = size: no previous page')
    const short = await page({ last: expected.length - 1 })
    t.same(short.conn.nodes.map((n) => n.id), expected.slice(1), 'last n: the n at the end')
    t.equal(short.conn.pageInfo.hasPreviousPage, true)
    const between = await page({ first: 100, after: all.conn.edges[0].cursor, before: all.conn.edges.at(-1)!.cursor })
    t.same(between.conn.nodes.map((n) => n.id), expected.slice(1, -1), 'after and before together bound the range')
    const max = await page({ first: 100 })
    t.same(max.conn.nodes.map((n) => n.id), expected, 'first: 100 is allowed')
    const afterEnd = await page({ first: 2, after: all.conn.pageInfo.endCursor })
    t.same(afterEnd.conn.nodes, [], 'after the last item: empty')
    t.equal(afterEnd.conn.pageInfo.hasNextPage, false)
    t.equal(afterEnd.conn.pageInfo.hasPreviousPage, true)

    for (const [vars, pointer, code] of [
      [{ first: 101 }, '/first', 'too_big'],
      [{ last: 101 }, '/last', 'too_big'],
      [{ first: 0 }, '/first', 'too_small'],
      [{ last: -1 }, '/last', 'too_small'],
      [{ first: 2, last: 2 }, '/last', 'first_and_last']
    ] as const) {
      const { errors } = await page(vars)
      t.equal(errors?.[0].extensions.code, 'validation.failed', `${JSON.stringify(vars)} refused`)
      t.match(errors?.[0].extensions.errors, [{ pointer, code }])
    }
    const bad = await page({ first: 2, after: 'not-a-cursor' })
    t.equal(bad.errors?.[0].extensions.code, 'request.invalid_cursor')
  })
}

t.test('every connection pages both ways', async (t) => {
  const { gql, rest, token } = await build(t)
  const contacts: string[] = []
  for (let i = 0; i < 5; i++) contacts.push((await rest('POST', '/v1/contacts', { body: { displayName: `Person ${i}`, tags: ['vip'] } })).data.id)
  const ada = contacts[0]
  const channels: string[] = []
  for (let i = 0; i < 3; i++) channels.push((await rest('POST', '/v1/channels', { body: { kind: 'note', name: `Notes ${i}` } })).data.id)
  const interactions: string[] = []
  for (let i = 0; i < 5; i++) {
    const body = { contactId: ada, channelId: channels[0], direction: 'outbound', kind: 'note', body: `I will send the report by Friday ${i}`, occurredAt: `2026-01-0${i + 1}T10:00:00Z` }
    interactions.push((await rest('POST', '/v1/interactions', { body })).data.id)
  }
  const promises: string[] = []
  for (let i = 0; i < 4; i++) promises.push((await rest('POST', '/v1/promises', { body: { contactId: ada, description: `call ${i}`, dueAt: '2099-01-01T00:00:00Z' } })).data.id)
  const identities: string[] = []
  for (let i = 0; i < 3; i++) identities.push((await rest('POST', `/v1/contacts/${ada}/identities`, { body: { kind: 'external', address: `ext-${i}` } })).data.id)
  const suggestions = (await rest('GET', '/v1/promise-suggestions?limit=100')).data.data.map((s: { id: string }) => s.id)
  t.ok(suggestions.length >= 3, 'outbound commitments made suggestions')

  const newestFirst = (ids: string[]) => [...ids].reverse()
  const args = '$first: Int, $after: String, $last: Int, $before: String'
  const page = 'first: $first, after: $after, last: $last, before: $before'
  await assertConnection(t, gql, 'contacts', `query (${args}) { contacts(${page}) { ${pageFields} } }`, ['contacts'], newestFirst(contacts))
  await assertConnection(t, gql, 'contacts, filtered and oldest first', `query (${args}) { contacts(${page}, filter: { tag: "vip" }, orderBy: { direction: ASC }) { ${pageFields} } }`, ['contacts'], contacts)
  await assertConnection(t, gql, 'channels', `query (${args}) { channels(${page}) { ${pageFields} } }`, ['channels'], newestFirst(channels))
  await assertConnection(t, gql, 'interactions', `query (${args}) { interactions(${page}) { ${pageFields} } }`, ['interactions'], newestFirst(interactions))
  await assertConnection(t, gql, 'interactions by occurredAt ascending', `query (${args}) { interactions(${page}, orderBy: { field: OCCURRED_AT, direction: ASC }) { ${pageFields} } }`, ['interactions'], interactions)
  await assertConnection(t, gql, 'promises', `query (${args}) { promises(${page}) { ${pageFields} } }`, ['promises'], newestFirst(promises))
  await assertConnection(t, gql, 'promises oldest first', `query (${args}) { promises(${page}, orderBy: { direction: ASC }) { ${pageFields} } }`, ['promises'], promises)
  await assertConnection(t, gql, 'promiseSuggestions', `query (${args}) { promiseSuggestions(${page}) { ${pageFields} } }`, ['promiseSuggestions'], suggestions)
  await assertConnection(t, gql, 'Contact.timeline', `query (${args}, $id: ID!) { contact(id: $id) { timeline(${page}) { ${pageFields} } } }`, ['contact', 'timeline'], newestFirst(interactions), { id: ada })
  await assertConnection(t, gql, 'Contact.promises', `query (${args}, $id: ID!) { contact(id: $id) { promises(${page}) { ${pageFields} } } }`, ['contact', 'promises'], newestFirst(promises), { id: ada })
  await assertConnection(t, gql, 'Contact.identities', `query (${args}, $id: ID!) { contact(id: $id) { identities(${page}) { ${pageFields} } } }`, ['contact', 'identities'], identities, { id: ada })

  await t.test('totalCount counts what the filters match, on every page', async (t) => {
    const res = await gql(`query ($id: ID!) {
      contacts(first: 1) { totalCount }
      vip: contacts(last: 2, filter: { tag: "vip" }) { totalCount nodes { id } }
      none: contacts(first: 1, filter: { tag: "nobody" }) { totalCount }
      channels(first: 1) { totalCount }
      interactions(first: 1, filter: { direction: OUTBOUND }) { totalCount }
      promises(first: 1) { totalCount }
      promiseSuggestions(first: 1) { totalCount }
      contact(id: $id) { timeline(first: 1) { totalCount } promises(first: 1) { totalCount } identities(first: 1) { totalCount } }
    }`, { id: ada })
    t.same(res.errors, undefined)
    t.equal(res.data.contacts.totalCount, 5)
    t.equal(res.data.vip.totalCount, 5)
    t.equal(res.data.vip.nodes.length, 2)
    t.equal(res.data.none.totalCount, 0)
    t.equal(res.data.channels.totalCount, 3)
    t.equal(res.data.interactions.totalCount, 5)
    t.equal(res.data.promises.totalCount, 4)
    t.equal(res.data.promiseSuggestions.totalCount, suggestions.length)
    t.same(res.data.contact, { timeline: { totalCount: 5 }, promises: { totalCount: 4 }, identities: { totalCount: 3 } })
  })

  await t.test('another workspace sees none of it, whatever the cursor', async (t) => {
    const globex = token({ workspace: 'globex' })
    const res = await gql('{ contacts(last: 5) { totalCount nodes { id } } channels(first: 5) { totalCount } interactions(last: 5) { totalCount nodes { id } } promises(first: 5) { totalCount } promiseSuggestions(first: 5) { totalCount } }', {}, { token: globex })
    t.same(res.errors, undefined)
    t.same(res.data, { contacts: { totalCount: 0, nodes: [] }, channels: { totalCount: 0 }, interactions: { totalCount: 0, nodes: [] }, promises: { totalCount: 0 }, promiseSuggestions: { totalCount: 0 } })
    const cursor = (await gql('{ contacts(first: 5) { pageInfo { endCursor } } }')).data.contacts.pageInfo.endCursor
    const leak = await gql('query ($c: String) { contacts(last: 5, before: $c) { nodes { id } } }', { c: cursor }, { token: globex })
    t.same(leak.data.contacts.nodes, [], 'an acme cursor reads nothing in globex')
  })
})

t.test('nested lists, the event feed and the attention queue are connections too', async (t) => {
  const clock = mutableClock('2026-03-04T10:00:00.000Z')
  // No scheduler: the overdue promises stay open, in the attention queue, while the test reads it.
  const { gql, rest, token } = await build(t, { clock: clock.clock, config: { workers: false } })
  const post = async (url: string, body: unknown) => {
    const res = await rest('POST', url, { body })
    t.ok(res.statusCode < 300, `POST ${url}: ${res.statusCode} ${res.statusCode < 300 ? "" : res.body}`)
    return res.data
  }
  const ada = (await post('/v1/contacts', { displayName: 'Ada' })).id
  const call = (await post('/v1/interactions', { contactId: ada, direction: 'inbound', kind: 'call', occurredAt: clock.in(-HOUR) })).id
  // Three promises made in one call; they fall due within the day.
  const made: string[] = []
  for (let i = 0; i < 3; i++) made.push((await post('/v1/promises', { contactId: ada, description: `made ${i}`, dueAt: clock.in((i + 1) * HOUR), madeInInteractionId: call })).id)
  // One promise kept by three outbound calls, after two renegotiations: four events.
  const kept = (await post('/v1/promises', { contactId: ada, description: 'kept', dueAt: clock.in(DAY) })).id
  await post(`/v1/promises/${kept}/renegotiate`, { dueAt: clock.in(2 * DAY), reason: 'later' })
  await post(`/v1/promises/${kept}/renegotiate`, { dueAt: clock.in(3 * DAY), reason: 'later still' })
  const evidence: string[] = []
  for (let i = 0; i < 3; i++) {
    clock.advance(MINUTE)
    evidence.push((await post('/v1/interactions', { contactId: ada, direction: 'outbound', kind: 'call' })).id)
  }
  await post(`/v1/promises/${kept}/keep`, { interactionIds: evidence })
  // Three contacts merged into Ada, a minute apart; three messages waiting for an answer.
  const waiting: string[] = []
  for (let i = 0; i < 3; i++) {
    clock.advance(MINUTE)
    const other = (await post('/v1/contacts', { displayName: `Other ${i}` })).id
    waiting.push((await post('/v1/interactions', { contactId: other, direction: 'inbound', kind: 'email', body: 'hello?', occurredAt: clock.in(-10 * MINUTE) })).id)
  }
  for (let i = 0; i < 3; i++) {
    clock.advance(MINUTE)
    await post(`/v1/contacts/${ada}/merge`, { contactId: (await post('/v1/contacts', { displayName: `Twin ${i}` })).id })
  }
  clock.advance(DAY)

  const merges = (await rest('GET', `/v1/contacts/${ada}/merges`)).data.data.map((m: { id: string }) => m.id)
  t.equal(merges.length, 3)
  const history = (await rest('GET', `/v1/promises/${kept}/events`)).data.data.map((e: { id: string }) => e.id)
  t.equal(history.length, 4, 'made, renegotiated twice, kept')
  // The feed is commit-safe: it holds events back while any older transaction of the cluster is
  // open (docs/event-log.md), which on a shared, busy test server can take a while.
  let feed: string[] = []
  for (const deadline = Date.now() + 120_000; feed.length < 3 + 4 && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 250))) {
    feed = (await rest('GET', '/v1/promise-events?limit=1000')).data.data.map((e: { id: string }) => e.id)
  }
  t.equal(feed.length, 3 + 4)

  const args = '$first: Int, $after: String, $last: Int, $before: String'
  const page = 'first: $first, after: $after, last: $last, before: $before'
  await assertConnection(t, gql, 'Promise.keptBy', `query (${args}, $id: ID!) { promise(id: $id) { keptBy(${page}) { ${pageFields} } } }`, ['promise', 'keptBy'], evidence, { id: kept })
  await assertConnection(t, gql, 'Promise.events', `query (${args}, $id: ID!) { promise(id: $id) { events(${page}) { ${pageFields} } } }`, ['promise', 'events'], history, { id: kept })
  await assertConnection(t, gql, 'Interaction.promisesMade', `query (${args}, $id: ID!) { interaction(id: $id) { promisesMade(${page}) { ${pageFields} } } }`, ['interaction', 'promisesMade'], made, { id: call })
  await assertConnection(t, gql, 'Contact.merges', `query (${args}, $id: ID!) { contact(id: $id) { merges(${page}) { ${pageFields} } } }`, ['contact', 'merges'], merges, { id: ada })
  await assertConnection(t, gql, 'promiseEvents, in feed order', `query (${args}) { promiseEvents(${page}) { ${pageFields} } }`, ['promiseEvents'], feed)
  await assertConnection(t, gql, 'attention.promises, most overdue first', `query (${args}) { attention(unansweredForMinutes: 0) { promises(${page}) { ${pageFields} } } }`, ['attention', 'promises'], made)
  const waitingFields = 'edges { cursor node { id: interactionId } } nodes { id: interactionId } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }'
  await assertConnection(t, gql, 'attention.unanswered, longest waiting first', `query (${args}) { attention(unansweredForMinutes: 0) { unanswered(${page}) { ${waitingFields} } } }`, ['attention', 'unanswered'], waiting)

  await t.test('totalCount, and the cost of nested pages', async (t) => {
    const res = await gql(`query ($kept: ID!, $call: ID!, $ada: ID!) {
      promise(id: $kept) { keptBy(first: 1) { totalCount } events(last: 1) { totalCount } }
      interaction(id: $call) { promisesMade(first: 1) { totalCount } }
      contact(id: $ada) { merges(first: 1) { totalCount } }
      promiseEvents(first: 1) { totalCount }
      attention(unansweredForMinutes: 0) { promises(first: 1) { totalCount } unanswered(last: 1) { totalCount } }
    }`, { kept, call, ada })
    t.same(res.errors, undefined)
    t.same(res.data, {
      promise: { keptBy: { totalCount: 3 }, events: { totalCount: 4 } },
      interaction: { promisesMade: { totalCount: 3 } },
      contact: { merges: { totalCount: 3 } },
      promiseEvents: { totalCount: 7 },
      attention: { promises: { totalCount: 3 }, unanswered: { totalCount: 3 } }
    })
    const nested = await gql('{ promises(first: 10) { nodes { keptBy(first: 2) { nodes { id } } events(last: 5) { nodes { id } } } } promiseEvents(first: 3) { nodes { id } } attention { promises(first: 4) { nodes { id } } unanswered { nodes { interactionId } } } }')
    t.same(nested.errors, undefined)
    t.equal(nested.res.data.extensions.cost.requested, 10 + 10 * 2 + 10 * 5 + 3 + 4 + 25, 'every new connection counts, at its page size or the default 25')
  })

  await t.test('another workspace sees none of it, whatever the cursor', async (t) => {
    const globex = token({ workspace: 'globex' })
    const res = await gql('{ promiseEvents(last: 5) { totalCount nodes { id } } attention(unansweredForMinutes: 0) { promises(first: 5) { totalCount nodes { id } } unanswered(last: 5) { totalCount nodes { interactionId } } } }', {}, { token: globex })
    t.same(res.errors, undefined)
    t.same(res.data, { promiseEvents: { totalCount: 0, nodes: [] }, attention: { promises: { totalCount: 0, nodes: [] }, unanswered: { totalCount: 0, nodes: [] } } })
    const cursors = (await gql('{ promiseEvents(first: 2) { pageInfo { endCursor } } attention(unansweredForMinutes: 0) { promises(first: 1) { pageInfo { endCursor } } unanswered(first: 1) { pageInfo { endCursor } } } }')).data
    const leak = await gql(`query ($e: String, $p: String, $u: String) {
      promiseEvents(first: 5, after: $e) { nodes { id } } before: promiseEvents(last: 5, before: $e) { nodes { id } }
      attention(unansweredForMinutes: 0) { promises(first: 5, after: $p) { nodes { id } } unanswered(first: 5, after: $u) { nodes { interactionId } } }
    }`, { e: cursors.promiseEvents.pageInfo.endCursor, p: cursors.attention.promises.pageInfo.endCursor, u: cursors.attention.unanswered.pageInfo.endCursor }, { token: globex })
    t.same(leak.errors, undefined)
    t.same(leak.data, { promiseEvents: { nodes: [] }, before: { nodes: [] }, attention: { promises: { nodes: [] }, unanswered: { nodes: [] } } }, 'acme cursors read nothing in globex')
    for (const [query, id] of [
      ['query ($id: ID!) { promise(id: $id) { keptBy { nodes { id } } events { nodes { id } } } }', kept],
      ['query ($id: ID!) { interaction(id: $id) { promisesMade { nodes { id } } } }', call],
      ['query ($id: ID!) { contact(id: $id) { merges { nodes { id } } } }', ada]
    ]) {
      const other = await gql(query, { id }, { token: globex })
      t.match(other.errors?.[0].extensions.code, /not_found$/, `${query.slice(18, 40)}…: not found from globex`)
      t.notMatch(JSON.stringify(other.data ?? null), /prm_|int_|mrg_|ctc_/, 'nothing of acme leaks')
    }
  })
})

t.test('webhook endpoints, their deliveries and attempts, and API keys page both ways', async (t) => {
  const time = movableClock()
  // No workers: only the drains below send, so no attempt lands after the clock moved on.
  const { gql, rest, app } = await build(t, { clock: time.clock, config: { workers: false } })
  const post = async (url: string, body?: unknown) => {
    const res = await rest('POST', url, { body })
    t.ok(res.statusCode < 300, `POST ${url}: ${res.statusCode} ${res.statusCode < 300 ? '' : res.body}`)
    return res.data
  }
  const keys: string[] = []
  for (let i = 0; i < 3; i++) keys.push((await post('/v1/api-keys', { name: `key ${i}`, scopes: ['contacts:read'] })).id)
  // Nothing listens on port 9: every attempt fails, and the clock decides when the next one runs.
  const endpoints: string[] = []
  for (let i = 0; i < 3; i++) endpoints.push((await post('/v1/webhook-endpoints', { url: `http://127.0.0.1:9/hook-${i}`, eventTypes: ['contact.created'] })).id)
  const pings: string[] = []
  for (let i = 0; i < 3; i++) pings.push((await post(`/v1/webhook-endpoints/${endpoints[0]}/test`)).id)
  await app.jobs.webhookDelivery.drain()
  for (const ms of [1500, 2500, 5000]) { // past each retry (1, 2, 4 s) and its 20 % jitter
    time.advance(ms)
    await app.jobs.webhookDelivery.drain()
  }
  const attempts = (await rest('GET', `/v1/webhook-endpoints/${endpoints[0]}/deliveries/${pings[0]}/attempts`)).data.data.map((a: { attempt: number }) => a.attempt)
  // 3 or 4: the first delivery to spend its retries disables the endpoint, cancelling the others.
  t.ok(attempts.length >= 3, `${attempts.length} attempts`)

  const newestFirst = (ids: string[]) => [...ids].reverse()
  const args = '$first: Int, $after: String, $last: Int, $before: String'
  const page = 'first: $first, after: $after, last: $last, before: $before'
  await assertConnection(t, gql, 'apiKeys', `query (${args}) { apiKeys(${page}) { ${pageFields} } }`, ['apiKeys'], newestFirst(keys))
  await assertConnection(t, gql, 'webhookEndpoints', `query (${args}) { webhookEndpoints(${page}) { ${pageFields} } }`, ['webhookEndpoints'], newestFirst(endpoints))
  await assertConnection(t, gql, 'WebhookEndpoint.deliveries', `query (${args}, $id: ID!) { webhookEndpoint(id: $id) { deliveries(${page}) { ${pageFields} } } }`, ['webhookEndpoint', 'deliveries'], newestFirst(pings), { id: endpoints[0] })
  const attemptFields = 'edges { cursor node { id: attempt } } nodes { id: attempt } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }'
  await assertConnection(t, gql, 'WebhookDelivery.attempts (of the oldest delivery), oldest first',
    `query (${args}, $id: ID!) { webhookEndpoint(id: $id) { deliveries(last: 1) { nodes { attempts(${page}) { ${attemptFields} } } } } }`,
    ['webhookEndpoint', 'deliveries', 'nodes', '0', 'attempts'], attempts, { id: endpoints[0] })

  const res = await gql(`query ($id: ID!) {
    apiKeys(first: 1) { totalCount } webhookEndpoints(last: 1) { totalCount }
    webhookEndpoint(id: $id) { deliveries(last: 1) { totalCount nodes { attempts(first: 1) { totalCount } } } }
  }`, { id: endpoints[0] })
  t.same(res.errors, undefined)
  t.same(res.data, {
    apiKeys: { totalCount: 3 },
    webhookEndpoints: { totalCount: 3 },
    webhookEndpoint: { deliveries: { totalCount: 3, nodes: [{ attempts: { totalCount: attempts.length } }] } }
  })
})
