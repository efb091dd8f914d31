import { sql } from 'drizzle-orm'
import t from 'tap'
import { inWorkspace } from '../src/db/tenant.js'
import { build } from './helper.js'
import { createChannel, createContact, inbound, PUBLIC_URL, publicInboundUrl, twilioSignature, workspaces } from './support/channels/index.js'
import { assertProblem, assertValidation } from './support/problem.js'

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef'
const TG_BOT = '123456:ABC-DEF_secret-bot-token'
const TG_SECRET = 'tg-Secret_Token-123'

const CHANNEL_FIELDS = 'id kind name status config secretsSet inboundUrl capabilities { receive send deliveryReceipts readReceipts threads attachments } createdAt updatedAt version'

const rowsOf = (r: any): any[] => Array.isArray(r) ? r : r.rows

// One app (one fresh database) for the file; each test works in workspaces of its own.
const app = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(app)

t.test('channel kinds: every adapter with capabilities, secret fields and a config schema', async (t) => {
  const { rest, gql } = fresh()
  const res = await rest('GET', '/v1/channel-kinds')
  t.equal(res.statusCode, 200, res.body)
  const kinds = new Map<string, any>(res.data.data.map((k: any) => [k.kind, k]))
  t.same([...kinds.keys()].sort(), ['email', 'mail', 'meeting', 'meta', 'note', 'phone', 'slack', 'sms', 'telegram', 'webhook', 'x'])
  t.same(kinds.get('sms').secretFields, ['authToken'])
  t.same(kinds.get('telegram').secretFields.sort(), ['botToken', 'secretToken'])
  t.match(kinds.get('sms').capabilities, { receive: true, send: true, deliveryReceipts: true })
  t.match(kinds.get('phone').capabilities, { receive: false, send: false })
  t.equal(kinds.get('sms').configSchema.type, 'object', 'config schema is a JSON Schema')
  t.ok(kinds.get('sms').configSchema.properties.accountSid, 'config schema names the fields')

  const g = await gql('{ channelKinds { kind secretFields capabilities { send } configSchema } }')
  t.same(g.errors, undefined)
  t.same(g.data.channelKinds.map((k: any) => k.kind).sort(), [...kinds.keys()].sort(), 'GraphQL lists the same kinds')
  t.same(g.data.channelKinds.find((k: any) => k.kind === 'sms').secretFields, ['authToken'])
})

t.test('CRUD over REST: secrets are write-only and encrypted at rest', async (t) => {
  const { rest, database, workspace } = fresh()
  const secret = 'tw-auth-SECRET-0001'
  const created = await rest('POST', '/v1/channels', {
    body: { kind: 'sms', name: 'Support SMS', config: { accountSid: ACCOUNT_SID, authToken: secret, from: '+14155550100' } }
  })
  t.equal(created.statusCode, 201, created.body)
  const ch = created.data
  t.match(ch.id, /^chn_[0-9a-z]{26}$/)
  t.equal(created.headers.location, `/v1/channels/${ch.id}`)
  t.equal(ch.kind, 'sms')
  t.equal(ch.name, 'Support SMS')
  t.equal(ch.status, 'active', 'active by default')
  t.same(ch.config, { accountSid: ACCOUNT_SID, from: '+14155550100', apiBaseUrl: 'https://api.twilio.com' }, 'config without the secret, defaults filled in')
  t.same(ch.secretsSet, ['authToken'])
  t.equal(ch.inboundUrl, `/v1/channels/${ch.id}/inbound`)
  t.match(ch.capabilities, { receive: true, send: true })
  t.equal(ch.version, 1)
  t.notOk(created.body.includes(secret), 'the create answer does not echo the secret')

  const read = await rest('GET', `/v1/channels/${ch.id}`)
  t.equal(read.statusCode, 200)
  t.same(read.data, ch, 'GET returns what POST returned')
  t.notOk(read.body.includes(secret), 'GET does not return the secret')
  const list = await rest('GET', '/v1/channels')
  t.same(list.data.data.map((c: any) => c.id), [ch.id])
  t.notOk(list.body.includes(secret), 'the list does not return the secret')

  const stored = async () => rowsOf(await inWorkspace(database.db, workspace, (tx) =>
    tx.execute(sql`select secrets, config::text as config from channels where id = ${ch.id}`)))[0]
  const row1 = await stored()
  t.type(row1.secrets, 'string', 'the secrets column holds a value')
  t.notOk(row1.secrets.includes(secret), 'secrets column does not contain the plain secret')
  t.notOk(row1.secrets.includes(Buffer.from(secret).toString('base64')), 'nor its base64')
  t.notOk(row1.config.includes(secret), 'the plain config column does not contain the secret')

  // Only the right token verifies an inbound request: the secret is really in use.
  const body = 'MessageSid=SMcrud1&From=%2B14155552671&To=%2B14155550100&Body=hi&SmsStatus=received'
  const signed = (token: string) => ({ payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(token, publicInboundUrl(ch.id), body) } })
  t.equal((await inbound(rest, ch.id, signed(secret))).statusCode, 200, 'the stored secret verifies')

  const renamed = await rest('PATCH', `/v1/channels/${ch.id}`, { body: { name: 'Front desk SMS' } })
  t.equal(renamed.statusCode, 200, renamed.body)
  t.equal(renamed.data.name, 'Front desk SMS')
  t.equal(renamed.data.version, 2)
  t.same(renamed.data.secretsSet, ['authToken'], 'renaming keeps the secret')
  t.same(renamed.data.config, ch.config, 'renaming keeps the config')

  const newSecret = 'tw-auth-SECRET-0002'
  const rotated = await rest('PATCH', `/v1/channels/${ch.id}`, { body: { config: { authToken: newSecret, from: null } } })
  t.equal(rotated.statusCode, 200, rotated.body)
  t.same(rotated.data.secretsSet, ['authToken'])
  t.same(rotated.data.config, { accountSid: ACCOUNT_SID, apiBaseUrl: 'https://api.twilio.com' }, 'null removes a config key, absent keys stay')
  t.notOk(rotated.body.includes(newSecret), 'PATCH does not echo the new secret')
  t.equal(rotated.data.version, 3)
  const row2 = await stored()
  t.not(row2.secrets, row1.secrets, 'the ciphertext changed')
  t.notOk(row2.secrets.includes(newSecret), 'the new secret is encrypted too')
  t.equal((await inbound(rest, ch.id, signed(secret))).statusCode, 401, 'the old secret no longer verifies')
  t.equal((await inbound(rest, ch.id, signed(newSecret))).statusCode, 200, 'the new one does')

  // A kind with several secret fields: secretsSet follows what is set.
  const meta = await createChannel(rest, 'meta', { appSecret: 'app-secret-XYZ', verifyToken: 'verify-XYZ', platform: 'messenger' })
  t.same(meta.secretsSet, ['appSecret', 'verifyToken'])
  t.same(meta.config, { platform: 'messenger', apiVersion: 'v21.0', apiBaseUrl: 'https://graph.facebook.com' })
  const withToken = await rest('PATCH', `/v1/channels/${meta.id}`, { body: { config: { accessToken: 'page-token-XYZ' } } })
  t.same(withToken.data.secretsSet, ['accessToken', 'appSecret', 'verifyToken'], 'a secret added by PATCH is listed')
  const withoutToken = await rest('PATCH', `/v1/channels/${meta.id}`, { body: { config: { accessToken: null } } })
  t.same(withoutToken.data.secretsSet, ['appSecret', 'verifyToken'], 'null removes a secret')
  for (const res of [withToken, withoutToken, await rest('GET', `/v1/channels/${meta.id}`)]) {
    t.notOk(/app-secret-XYZ|verify-XYZ|page-token-XYZ/.test(res.body), 'no meta secret in any answer')
  }

  const note = await createChannel(rest, 'note', {})
  t.same(note.secretsSet, [], 'a manual kind has no secrets')
  t.same(note.config, {})
  t.match(note.capabilities, { receive: false, send: false })

  const paged = await rest('GET', '/v1/channels?limit=2')
  t.equal(paged.data.data.length, 2)
  t.ok(paged.data.nextCursor, 'a next cursor')
  t.match(paged.headers.link, /rel="next"/)
  const rest2 = await rest('GET', `/v1/channels?limit=2&after=${paged.data.nextCursor}`)
  t.same([...paged.data.data, ...rest2.data.data].map((c: any) => c.id).sort(), [ch.id, meta.id, note.id].sort(), 'pages cover every channel once')
  t.same((await rest('GET', '/v1/channels?kind=meta')).data.data.map((c: any) => c.id), [meta.id], 'filter by kind')
})

t.test('config validation: the adapter schema answers 400 with pointers under /config', async (t) => {
  const { rest } = fresh()
  const bad = await rest('POST', '/v1/channels', { body: { kind: 'sms', name: 'x', config: { accountSid: 'nope', from: '555', bogus: 1 } } })
  assertValidation(t, bad, [{ pointer: '/body/config/accountSid' }, { pointer: '/body/config/authToken' }, { pointer: '/body/config/from' }, { pointer: '/body/config/bogus', code: 'unknown_field' }], 'sms config')

  const badToken = 'leaky-not-a-bot-token'
  const tg = await rest('POST', '/v1/channels', { body: { kind: 'telegram', name: 'x', config: { botToken: badToken, secretToken: 'ok' } } })
  assertValidation(t, tg, [{ pointer: '/body/config/botToken' }], 'telegram config')
  t.notOk(tg.body.includes(badToken), 'a rejected secret value is not echoed back')

  assertValidation(t, await rest('POST', '/v1/channels', { body: { kind: 'email', name: 'x', config: { inboundFormat: 'postmark' } } }),
    [{ pointer: '/body/config/basicAuthUser' }, { pointer: '/body/config/basicAuthPassword' }], 'cross-field rule (Postmark inbound needs credentials)')
  assertValidation(t, await rest('POST', '/v1/channels', { body: { kind: 'meta', name: 'x', config: { appSecret: 'a', verifyToken: 'v', platform: 'whatsapp', accessToken: 't' } } }),
    [{ pointer: '/body/config/phoneNumberId' }], 'WhatsApp sending needs a phone number id')
  assertValidation(t, await rest('POST', '/v1/channels', { body: { kind: 'webhook', name: 'x', config: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', url: 'ftp://example.com' } } }),
    [{ pointer: '/body/config/url' }], 'url protocol')
  assertValidation(t, await rest('POST', '/v1/channels', { body: { kind: 'carrier-pigeon', name: 'x', config: {} } }), [{ pointer: '/body/kind', code: 'unknown_kind' }], 'unknown kind')
  assertValidation(t, await rest('POST', '/v1/channels', { body: { kind: 'note', name: 'x', config: { anything: true } } }), [{ pointer: '/body/config/anything', code: 'unknown_field' }], 'manual kinds take no config')
  const badStatus = await rest('POST', '/v1/channels', { body: { kind: 'note', name: 'x', status: 'disabled' } })
  t.equal(badStatus.statusCode, 400, 'an unknown status is refused')
  t.equal(badStatus.data.code, 'validation.failed')
  t.same((await rest('GET', '/v1/channels')).data.data, [], 'nothing was created by refused requests')

  const ch = await createChannel(rest, 'telegram', { botToken: TG_BOT, secretToken: TG_SECRET })
  const badPatch = await rest('PATCH', `/v1/channels/${ch.id}`, { body: { name: 'renamed', config: { botToken: 'nope' } } })
  assertValidation(t, badPatch, [{ pointer: '/body/config/botToken' }], 'patched config is validated whole')
  const removeRequired = await rest('PATCH', `/v1/channels/${ch.id}`, { body: { config: { secretToken: null } } })
  assertValidation(t, removeRequired, [{ pointer: '/body/config/secretToken' }], 'removing a required secret is refused')
  const after = await rest('GET', `/v1/channels/${ch.id}`)
  t.equal(after.data.name, ch.name, 'a refused PATCH changes nothing (name)')
  t.equal(after.data.version, 1, 'a refused PATCH changes nothing (version)')
  t.same(after.data.secretsSet, ['botToken', 'secretToken'])
})

t.test('pause, resume and delete', async (t) => {
  const { rest } = fresh()
  const tg = await createChannel(rest, 'telegram', { botToken: TG_BOT, secretToken: TG_SECRET })
  const other = await createChannel(rest, 'note', {})
  const contact = await createContact(rest, { displayName: 'Maria' })
  t.equal((await rest('POST', `/v1/contacts/${contact.id}/identities`, { body: { kind: 'telegram:user', address: '1111111111' } })).statusCode, 201)

  const paused = await rest('PATCH', `/v1/channels/${tg.id}`, { body: { status: 'paused' } })
  t.equal(paused.statusCode, 200, paused.body)
  t.equal(paused.data.status, 'paused')
  t.equal(paused.data.version, 2)
  t.same((await rest('GET', '/v1/channels?status=paused')).data.data.map((c: any) => c.id), [tg.id], 'filter paused')
  t.same((await rest('GET', '/v1/channels?status=active')).data.data.map((c: any) => c.id), [other.id], 'filter active')
  assertProblem(t, await rest('POST', `/v1/contacts/${contact.id}/messages`, { body: { channelId: tg.id, text: 'hello' } }), 409, 'channel.paused')
  t.same((await rest('GET', `/v1/interactions?channelId=${tg.id}`)).data.data, [], 'a refused send leaves no interaction')

  const resumed = await rest('PATCH', `/v1/channels/${tg.id}`, { body: { status: 'active' } })
  t.equal(resumed.data.status, 'active')
  t.equal((await rest('POST', `/v1/contacts/${contact.id}/messages`, { body: { channelId: tg.id, text: 'hello' } })).statusCode, 202, 'sending works again once resumed')

  const update = JSON.stringify({ update_id: 1, message: { message_id: 7, from: { id: 1111111111, first_name: 'Maria' }, chat: { id: 1111111111, type: 'private' }, date: 1717006500, text: 'hi' } })
  const tgCall = { payload: update, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET } }
  t.equal((await inbound(rest, tg.id, tgCall)).statusCode, 200, 'the webhook URL answers before the delete')

  const del = await rest('DELETE', `/v1/channels/${tg.id}`)
  t.equal(del.statusCode, 204)
  t.equal(del.body, '')
  assertProblem(t, await rest('GET', `/v1/channels/${tg.id}`), 404, 'channel.not_found', 'GET after delete')
  assertProblem(t, await rest('PATCH', `/v1/channels/${tg.id}`, { body: { name: 'x' } }), 404, 'channel.not_found', 'PATCH after delete')
  assertProblem(t, await rest('DELETE', `/v1/channels/${tg.id}`), 404, 'channel.not_found', 'DELETE twice')
  t.same((await rest('GET', '/v1/channels')).data.data.map((c: any) => c.id), [other.id], 'gone from the list')
  assertProblem(t, await inbound(rest, tg.id, tgCall), 404, 'channel.not_found', 'inbound POST after delete')
  assertProblem(t, await inbound(rest, tg.id, { method: 'GET' }), 404, 'channel.not_found', 'inbound GET after delete')
  assertProblem(t, await rest('POST', `/v1/contacts/${contact.id}/messages`, { body: { channelId: tg.id, text: 'hello' } }), 404, 'channel.not_found', 'sending on a deleted channel')
  assertProblem(t, await inbound(rest, 'chn_01hzzzzzzzzzzzzzzzzzzzzzzz', tgCall), 404, 'channel.not_found', 'inbound on an unknown channel')
})

t.test('scopes: 403 naming the missing scope, nothing changed', async (t) => {
  const { rest, gql, token } = fresh()
  const readOnly = token({ scopes: ['channels:read'] })
  const noChannels = token({ scopes: ['contacts:read', 'contacts:write'] })
  const ch = await createChannel(rest, 'telegram', { botToken: TG_BOT, secretToken: TG_SECRET })

  t.equal((await rest('GET', `/v1/channels/${ch.id}`, { token: readOnly })).statusCode, 200, 'channels:read reads')
  for (const [method, url, body] of [['POST', '/v1/channels', { kind: 'note', name: 'n' }], ['PATCH', `/v1/channels/${ch.id}`, { name: 'hacked' }], ['DELETE', `/v1/channels/${ch.id}`]] as const) {
    const res = await rest(method, url, { token: readOnly, body })
    const p = assertProblem(t, res, 403, 'auth.forbidden', `${method} ${url} with channels:read`)
    t.equal(p.requiredScope, 'channels:write')
    t.match(p.detail, /channels:write/)
  }
  for (const url of ['/v1/channels', `/v1/channels/${ch.id}`, '/v1/channel-kinds']) {
    const p = assertProblem(t, await rest('GET', url, { token: noChannels }), 403, 'auth.forbidden', `GET ${url} without channels:read`)
    t.equal(p.requiredScope, 'channels:read')
  }
  const gm = await gql('mutation { createChannel(input: { kind: "note", name: "n" }) { channel { id } } }', {}, { token: readOnly })
  t.equal(gm.errors?.[0].extensions.code, 'auth.forbidden')
  t.equal(gm.errors?.[0].extensions.requiredScope, 'channels:write')
  const gu = await gql('mutation ($id: ID!) { updateChannel(input: { id: $id, name: "hacked" }) { channel { id } } }', { id: ch.id }, { token: readOnly })
  t.equal(gu.errors?.[0].extensions.requiredScope, 'channels:write')
  const gq = await gql('{ channels(first: 5) { nodes { id } } }', {}, { token: noChannels })
  t.equal(gq.errors?.[0].extensions.code, 'auth.forbidden')
  t.equal(gq.errors?.[0].extensions.requiredScope, 'channels:read')

  const after = await rest('GET', '/v1/channels')
  t.same(after.data.data.map((c: any) => [c.id, c.name, c.version]), [[ch.id, ch.name, 1]], 'refused writes changed nothing')
})

t.test('tenancy: another workspace\'s channel is a 404 everywhere and stays unchanged', async (t) => {
  const { rest, gql, token, workspace } = fresh()
  const acme = token()
  const globex = token({ workspace: `${workspace}-other` })
  const ch = await createChannel(rest, 'telegram', { botToken: TG_BOT, secretToken: TG_SECRET }, { token: acme, name: 'Acme bot' })

  for (const [method, url, body] of [['GET', `/v1/channels/${ch.id}`], ['PATCH', `/v1/channels/${ch.id}`, { name: 'hacked', status: 'paused' }], ['DELETE', `/v1/channels/${ch.id}`]] as const) {
    assertProblem(t, await rest(method, url, { token: globex, body }), 404, 'channel.not_found', `${method} from globex`)
  }
  for (const q of ['', '?kind=telegram', '?status=active']) t.same((await rest('GET', `/v1/channels${q}`, { token: globex })).data.data, [], `globex list${q} is empty`)

  const g = await gql('query ($id: ID!) { channel(id: $id) { id name } }', { id: ch.id }, { token: globex })
  t.equal(g.data?.channel ?? null, null)
  t.equal(g.errors?.[0].extensions.code, 'channel.not_found')
  const gu = await gql('mutation ($id: ID!) { updateChannel(input: { id: $id, name: "hacked" }) { channel { id } } }', { id: ch.id }, { token: globex })
  t.equal(gu.errors?.[0].extensions.code, 'channel.not_found')
  const gd = await gql('mutation ($id: ID!) { deleteChannel(input: { id: $id }) { deletedChannelId } }', { id: ch.id }, { token: globex })
  t.equal(gd.errors?.[0].extensions.code, 'channel.not_found')
  t.same((await gql('{ channels(first: 10) { nodes { id } } }', {}, { token: globex })).data.channels.nodes, [])

  // Nor can globex use acme's channel for its own contacts.
  const gc = await createContact(rest, { displayName: 'Globex person', phones: ['+14155550100'] }, globex)
  assertProblem(t, await rest('POST', `/v1/contacts/${gc.id}/messages`, { token: globex, body: { channelId: ch.id, text: 'hi', to: '1' } }), 404, 'channel.not_found', 'send via another workspace\'s channel')
  assertProblem(t, await rest('POST', '/v1/interactions', { token: globex, body: { contactId: gc.id, channelId: ch.id, direction: 'outbound', kind: 'note' } }), 404, 'channel.not_found', 'log on another workspace\'s channel')

  const own = await createChannel(rest, 'note', {}, { token: globex })
  t.same((await rest('GET', '/v1/channels', { token: acme })).data.data.map((c: any) => c.id), [ch.id], 'acme does not see globex\'s channel')
  t.same((await rest('GET', '/v1/channels', { token: globex })).data.data.map((c: any) => c.id), [own.id])
  const after = await rest('GET', `/v1/channels/${ch.id}`, { token: acme })
  t.equal(after.data.name, 'Acme bot', 'unchanged')
  t.equal(after.data.status, 'active', 'unchanged')
  t.equal(after.data.version, 1, 'unchanged')
})

t.test('GraphQL mirror of the channel API', async (t) => {
  const { rest, gql } = fresh()
  const created = await gql(`mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { ${CHANNEL_FIELDS} } } }`, {
    input: { kind: 'telegram', name: 'GQL bot', config: { botToken: TG_BOT, secretToken: TG_SECRET } }
  })
  t.same(created.errors, undefined)
  const ch = created.data.createChannel.channel
  t.equal(ch.status, 'ACTIVE', 'enums are upper case')
  t.same(ch.secretsSet, ['botToken', 'secretToken'])
  t.same(ch.config, { apiBaseUrl: 'https://api.telegram.org' })
  t.notOk(JSON.stringify(created.data).includes(TG_BOT.split(':')[1]), 'no bot token in the answer')
  t.notOk(JSON.stringify(created.data).includes(TG_SECRET), 'no secret token in the answer')
  const viaRest = (await rest('GET', `/v1/channels/${ch.id}`)).data
  t.same({ ...viaRest, status: viaRest.status.toUpperCase() }, ch, 'REST and GraphQL serve the same channel')

  const read = await gql(`query ($id: ID!) { channel(id: $id) { ${CHANNEL_FIELDS} } }`, { id: ch.id })
  t.same(read.data.channel, ch)

  const invalid = await gql('mutation ($input: CreateChannelInput!) { createChannel(input: $input) { channel { id } } }', {
    input: { kind: 'telegram', name: 'bad', config: { botToken: 'nope', secretToken: TG_SECRET } }
  })
  t.equal(invalid.errors?.[0].extensions.code, 'validation.failed')
  t.ok(invalid.errors?.[0].extensions.errors.some((e: any) => e.pointer === '/config/botToken'), 'the field error names /config/botToken')

  const second = await gql('mutation { createChannel(input: { kind: "note", name: "Notes", status: PAUSED }) { channel { id status } } }')
  t.same(second.errors, undefined)
  t.equal(second.data.createChannel.channel.status, 'PAUSED')
  const secondId = second.data.createChannel.channel.id

  const page1 = await gql('{ channels(first: 1) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }')
  t.equal(page1.data.channels.edges.length, 1)
  t.equal(page1.data.channels.pageInfo.hasNextPage, true)
  const page2 = await gql('query ($after: String) { channels(first: 1, after: $after) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }', { after: page1.data.channels.pageInfo.endCursor })
  t.same([page1.data.channels.edges[0].node.id, page2.data.channels.nodes[0].id].sort(), [ch.id, secondId].sort(), 'two pages, each channel once')
  t.equal(page2.data.channels.pageInfo.hasNextPage, false)
  t.equal(page2.data.channels.pageInfo.hasPreviousPage, true)
  t.same((await gql('{ channels(filter: { status: PAUSED }) { nodes { id } } }')).data.channels.nodes.map((n: any) => n.id), [secondId], 'filter by status enum')
  t.same((await gql('{ channels(filter: { kind: "telegram" }) { nodes { id } } }')).data.channels.nodes.map((n: any) => n.id), [ch.id], 'filter by kind')

  const updated = await gql('mutation ($input: UpdateChannelInput!) { updateChannel(input: $input) { channel { id name status version secretsSet config } } }', {
    input: { id: ch.id, name: 'Renamed bot', status: 'PAUSED', config: { secretToken: 'rotated-Secret' } }
  })
  t.same(updated.errors, undefined)
  t.match(updated.data.updateChannel.channel, { name: 'Renamed bot', status: 'PAUSED', version: 2, secretsSet: ['botToken', 'secretToken'] })
  t.notOk(JSON.stringify(updated.data).includes('rotated-Secret'), 'the rotated secret is not returned')
  t.equal((await rest('GET', `/v1/channels/${ch.id}`)).data.status, 'paused', 'REST sees the GraphQL update')

  const deleted = await gql('mutation ($id: ID!) { deleteChannel(input: { id: $id }) { deletedChannelId } }', { id: ch.id })
  t.equal(deleted.data.deleteChannel.deletedChannelId, ch.id)
  const gone = await gql('query ($id: ID!) { channel(id: $id) { id } }', { id: ch.id })
  t.equal(gone.data?.channel ?? null, null)
  t.equal(gone.errors?.[0].extensions.code, 'channel.not_found')
  t.equal((await rest('GET', `/v1/channels/${ch.id}`)).statusCode, 404)
})
