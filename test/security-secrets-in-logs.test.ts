import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { testConfig } from '../src/config.test-support.js'
import { allScopes } from '../src/lib/context.js'
import { isolatedDatabase } from './helper.js'
import { basicAuth, metaSignature, sample, slackSignature, twilioSignature } from './support/channels/index.js'
import { badTokens } from './support/security/tokens.js'

/**
 * The log at its most verbose (trace) during a full flow — tokens, channel secrets set and
 * replaced, refused requests, signed provider webhooks, handshakes, an outbound send that fails
 * then succeeds — must not contain a bearer token or a channel secret, in any encoding.
 */

const PUBLIC_URL = 'https://crm.example.com'
const lines: string[] = []
const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })

// The provider side of outbound sends: first a network failure, then success.
const providerCalls: string[] = []
const fakeFetch = (async (url: string | URL) => {
  providerCalls.push(String(url))
  if (providerCalls.length === 1) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })
  return new Response(JSON.stringify({ ok: true, result: { message_id: 77, chat: { id: 1111111111 } } }), { status: 200, headers: { 'content-type': 'application/json' } })
}) as typeof fetch

const database = await isolatedDatabase(t)
const config = testConfig({ publicUrl: PUBLIC_URL })
const app = await buildApp({ config, db: database.db, logger: { level: 'trace', stream }, fetch: fakeFetch })
await app.ready()
t.teardown(() => app.close())

const secrets = {
  telegramBotToken: '123456:TgBotTokenSECRET_a1b2c3',
  telegramBotToken2: '654321:TgBotTokenREPLACED_d4e5f6',
  telegramSecretToken: 'TgWebhookSecret_g7h8i9',
  twilioAuthToken: 'TwilioAuthTokenSECRET_j0k1l2',
  slackSigningSecret: 'SlackSigningSECRET_m3n4o5',
  slackBotToken: 'xoxb-slack-bot-SECRET-p6q7r8',
  metaAppSecret: 'MetaAppSECRET_s9t0u1',
  metaVerifyToken: 'MetaVerifyTOKEN_v2w3x4',
  metaAccessToken: 'MetaAccessTOKEN_y5z6a7',
  postmarkPassword: 'PostmarkPassSECRET_b8c9d0'
}
/** Secrets the API generates and shows once (filled in by the flow). */
const oneTime: Record<string, string> = {}
const good = app.jwt.sign({ sub: 'owner', wid: 'logs', scope: allScopes.join(' ') })
const readOnly = app.jwt.sign({ sub: 'reader', wid: 'logs', scope: 'contacts:read' })
const refused = badTokens(config.jwtSecret, 'logs')
const tokens: Record<string, string> = { good, readOnly, ...Object.fromEntries(Object.entries(refused).filter((e): e is [string, string] => e[1] !== null)) }

async function call (method: string, url: string, o: { token?: string | null, body?: unknown, payload?: string | Buffer, headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...o.headers }
  const bearer = o.token === undefined ? good : o.token
  if (bearer) headers.authorization = `Bearer ${bearer}`
  const res = await app.inject({ method: method as 'GET', url, headers, ...(o.payload !== undefined ? { payload: o.payload } : o.body !== undefined ? { payload: o.body as object } : {}) })
  return Object.assign(res, { data: (() => { try { return JSON.parse(res.body) } catch { return undefined } })() })
}
async function must (status: number, what: string, p: ReturnType<typeof call>) {
  const res = await p
  if (res.statusCode !== status) throw new Error(`${what}: expected ${status}, got ${res.statusCode} ${res.body.slice(0, 300)}`)
  return res.data
}

t.test('a full flow at trace level', async (t) => {
  const contact = await must(201, 'contact', call('POST', '/v1/contacts', { body: { displayName: 'Log Subject', emails: ['log@example.com'], phones: ['+14155552671'] } }))
  const telegram = await must(201, 'telegram', call('POST', '/v1/channels', { body: { kind: 'telegram', name: 'tg', config: { botToken: secrets.telegramBotToken, secretToken: secrets.telegramSecretToken } } }))
  const sms = await must(201, 'sms', call('POST', '/v1/channels', { body: { kind: 'sms', name: 'sms', config: { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: secrets.twilioAuthToken, from: '+14155550100' } } }))
  const slack = await must(201, 'slack', call('POST', '/v1/channels', { body: { kind: 'slack', name: 'slack', config: { signingSecret: secrets.slackSigningSecret, botToken: secrets.slackBotToken } } }))
  const meta = await must(201, 'meta', call('POST', '/v1/channels', { body: { kind: 'meta', name: 'meta', config: { appSecret: secrets.metaAppSecret, verifyToken: secrets.metaVerifyToken, accessToken: secrets.metaAccessToken, platform: 'messenger' } } }))
  const email = await must(201, 'email', call('POST', '/v1/channels', { body: { kind: 'email', name: 'mail', config: { inboundFormat: 'postmark', basicAuthUser: 'pm-user', basicAuthPassword: secrets.postmarkPassword } } }))
  // A channel config the adapter refuses (its secret in the refused body), and a GraphQL create.
  t.equal((await call('POST', '/v1/channels', { body: { kind: 'telegram', name: 'bad', config: { botToken: secrets.telegramBotToken, secretToken: 'bad token!' } } })).statusCode, 400)
  const viaGraphql = await call('POST', '/graphql', { body: { query: 'mutation ($c: JSON) { createChannel(input: { kind: "slack", name: "gql", config: $c }) { channel { id secretsSet } } }', variables: { c: { signingSecret: secrets.slackSigningSecret } } } })
  t.same(viaGraphql.data?.data?.createChannel?.channel?.secretsSet, ['signingSecret'])
  // One-time secrets GraphQL hands out (an API key, then used; a webhook endpoint's, then rotated).
  const key = await call('POST', '/graphql', { body: { query: 'mutation { createApiKey(input: { name: "logs", scopes: ["contacts:read"] }) { secret } }' } })
  oneTime.apiKey = key.data?.data?.createApiKey?.secret
  t.equal((await call('POST', '/graphql', { token: oneTime.apiKey, body: { query: '{ contacts { totalCount } }' } })).statusCode, 200, 'the key works over GraphQL')
  const hook = await call('POST', '/graphql', { body: { query: 'mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/logs", eventTypes: ["contact.created"] }) { secret webhookEndpoint { id } } }' } })
  oneTime.webhookSecret = hook.data?.data?.createWebhookEndpoint?.secret
  const rotated = await call('POST', '/graphql', { body: { query: 'mutation ($id: ID!) { rotateWebhookEndpointSecret(input: { id: $id }) { secret } }', variables: { id: hook.data?.data?.createWebhookEndpoint?.webhookEndpoint?.id } } })
  oneTime.rotatedWebhookSecret = rotated.data?.data?.rotateWebhookEndpointSecret?.secret
  for (const [name, value] of Object.entries(oneTime)) t.match(value, /^(rpk_live_|whsec_)/, `${name} was handed out`)
  // Replace a secret.
  t.equal((await call('PATCH', `/v1/channels/${telegram.id}`, { body: { config: { botToken: secrets.telegramBotToken2 } } })).statusCode, 200)
  t.same((await call('GET', `/v1/channels/${telegram.id}`)).data.secretsSet, ['botToken', 'secretToken'])

  // Requests that fail authentication or authorization, each carrying its token.
  for (const [name, tok] of Object.entries(refused)) t.equal((await call('GET', '/v1/contacts', { token: tok })).statusCode, 401, `refused: ${name}`)
  t.equal((await call('POST', '/v1/contacts', { token: readOnly, body: { displayName: 'x' } })).statusCode, 403)
  t.equal((await call('POST', '/graphql', { token: refused['bad signature'], body: { query: '{ contacts { nodes { id } } }' } })).statusCode, 401)
  t.equal((await call('GET', `/v1/contacts?email=${encodeURIComponent('log@example.com')}&access_token=${good}`)).statusCode, 400, 'a token in the query string is refused (unknown parameter)')
  // A 500 is logged with its error: provoke none, but a hostile value reaches the database layer.
  t.equal((await call('POST', '/v1/promises', { body: { contactId: contact.id, description: 'x', dueAt: '0000-01-01T00:00:00Z' } })).statusCode, 400)

  // Signed provider webhooks, handshakes, and refused ones.
  const json = { 'content-type': 'application/json' }
  const tg = sample('telegram-update.json')
  t.equal((await call('POST', `/v1/channels/${telegram.id}/inbound`, { token: null, payload: tg, headers: { ...json, 'x-telegram-bot-api-secret-token': secrets.telegramSecretToken } })).statusCode, 200, 'telegram')
  t.equal((await call('POST', `/v1/channels/${telegram.id}/inbound`, { token: null, payload: tg, headers: { ...json, 'x-telegram-bot-api-secret-token': `${secrets.telegramSecretToken}x` } })).statusCode, 401, 'telegram, near-miss secret')

  const twilioBody = sample('twilio-sms.txt').toString('utf8').trim()
  const twilioUrl = `${PUBLIC_URL}/v1/channels/${sms.id}/inbound`
  t.equal((await call('POST', `/v1/channels/${sms.id}/inbound`, { token: null, payload: twilioBody, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(secrets.twilioAuthToken, twilioUrl, twilioBody) } })).statusCode, 200, 'twilio')

  const ts = Math.floor(Date.now() / 1000)
  const slackBody = sample('slack-event-callback.json')
  t.equal((await call('POST', `/v1/channels/${slack.id}/inbound`, { token: null, payload: slackBody, headers: { ...json, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(secrets.slackSigningSecret, ts, slackBody) } })).statusCode, 200, 'slack')
  const verification = sample('slack-url-verification.json')
  t.equal((await call('POST', `/v1/channels/${slack.id}/inbound`, { token: null, payload: verification, headers: { ...json, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(secrets.slackSigningSecret, ts, verification) } })).statusCode, 200, 'slack url_verification')

  const hub = await call('GET', `/v1/channels/${meta.id}/inbound?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(secrets.metaVerifyToken)}&hub.challenge=1158201444`, { token: null })
  t.equal(hub.body, '1158201444', 'meta verification handshake')
  t.equal((await call('GET', `/v1/channels/${meta.id}/inbound?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(secrets.metaVerifyToken)}x&hub.challenge=1`, { token: null })).statusCode, 403, 'meta, near-miss verify token')
  const metaBody = sample('meta-messenger.json')
  t.equal((await call('POST', `/v1/channels/${meta.id}/inbound`, { token: null, payload: metaBody, headers: { ...json, 'x-hub-signature-256': metaSignature(secrets.metaAppSecret, metaBody) } })).statusCode, 200, 'meta')

  const postmark = sample('postmark-inbound.json')
  t.equal((await call('POST', `/v1/channels/${email.id}/inbound`, { token: null, payload: postmark, headers: { ...json, authorization: basicAuth('pm-user', secrets.postmarkPassword) } })).statusCode, 200, 'postmark')
  await app.jobs.inbox.drain()

  // An outbound send: the first provider call fails on the network, the retry succeeds.
  const queued = await must(202, 'send', call('POST', `/v1/contacts/${contact.id}/messages`, { body: { channelId: telegram.id, to: '1111111111', text: 'Your quote is attached' } }))
  for (let i = 0; i < 100 && (await call('GET', `/v1/interactions/${queued.id}`)).data.status !== 'sent'; i++) {
    await app.jobs.outbox.drain()
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
  t.equal((await call('GET', `/v1/interactions/${queued.id}`)).data.status, 'sent', 'sent after a retry')
  t.equal(providerCalls.length, 2, 'two provider calls')
  t.ok(providerCalls.every((u) => u.includes(secrets.telegramBotToken2)), 'the provider URL carries the (replaced) bot token: it must stay out of the log')
  const attempts = (await call('GET', `/v1/interactions/${queued.id}/attempts`)).data.data
  t.notMatch(JSON.stringify(attempts), secrets.telegramBotToken2, 'nor in the delivery attempts the API shows')
  await app.jobs.inbox.drain()
})

t.test('the captured log holds no token and no secret, in any encoding', async (t) => {
  app.log.trace('trace probe')
  const log = lines.join('')
  t.ok(lines.length > 50, `${lines.length} log lines captured at trace level`)
  t.equal(app.log.level, 'trace', 'the app logs at trace level')
  t.match(log, /"level":10,.*"msg":"trace probe"/, 'trace lines reach the capture')
  t.match(log, /incoming request/, 'requests are logged')
  t.match(log, /hub\.verify_token=\[REDACTED\]/, 'the verify token in a webhook URL is logged redacted')

  const encodings = (v: string) => [...new Set([v, encodeURIComponent(v), Buffer.from(v).toString('base64'), Buffer.from(v).toString('base64url'), JSON.stringify(v).slice(1, -1)])]
  const needles: Record<string, string> = {}
  for (const [name, value] of Object.entries({ ...secrets, ...oneTime })) for (const [i, e] of encodings(value).entries()) needles[`${name} #${i}`] = e
  for (const [name, value] of Object.entries(tokens)) {
    needles[`token ${name}`] = value
    needles[`token ${name} signature`] = value.split('.')[2] || value
  }
  needles['postmark Basic credentials'] = basicAuth('pm-user', secrets.postmarkPassword).split(' ')[1]
  let checked = 0
  for (const [name, needle] of Object.entries(needles)) {
    if (needle.length < 8) continue
    checked++
    const at = log.indexOf(needle)
    t.equal(at, -1, `${name} is not in the log${at >= 0 ? `: …${log.slice(Math.max(0, at - 200), at + 50)}…` : ''}`)
  }
  t.comment(`${checked} secret and token forms searched in ${lines.length} log lines (${log.length} bytes)`)
})
