import type { ChannelAdapter, RawInboundRequest, SendResult } from '../channel-adapter.js'
import { hmac, safeEqual, withinWindow } from '../shared/crypto.js'
import { notConfigured } from '../shared/errors.js'
import { callProvider, failHttp, isRetryableStatus, ok } from '../shared/http.js'
import { header, readJson, str } from '../shared/request.js'
import { slackConfig, type SlackConfig } from './config.js'
import { parseEventCallback } from './parse.js'

/** Slack error codes that are transient (api.slack.com/methods/chat.postMessage#errors). */
const TRANSIENT = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'])

/** api.slack.com/authentication/verifying-requests-from-slack */
function verifySlack (req: RawInboundRequest, config: SlackConfig, now: Date): boolean {
  const ts = header(req, 'x-slack-request-timestamp')
  const sig = header(req, 'x-slack-signature')
  if (req.method !== 'POST' || sig === undefined || !withinWindow(ts, now, 300)) return false
  const base = Buffer.concat([Buffer.from(`v0:${ts}:`), req.rawBody])
  return safeEqual(sig, `v0=${hmac('sha256', config.signingSecret, base).toString('hex')}`)
}

/**
 * Slack Events API. Event Subscriptions -> Request URL: <public>/v1/channels/{id}/inbound;
 * subscribe to message.channels / message.im / app_mention as needed. Retries carry
 * X-Slack-Retry-Num and are verified like any request; the core dedupes by providerMessageId.
 */
export const slackAdapter: ChannelAdapter<SlackConfig> = {
  kind: 'slack',
  description: 'Slack app: channel and DM messages and @mentions via the Events API',
  capabilities: { receive: true, send: true, deliveryReceipts: false, readReceipts: false, threads: true, attachments: true },
  config: slackConfig,
  secretFields: ['signingSecret', 'botToken'],
  addressKinds: ['slack:user'],

  // url_verification is a signed POST; answer it only once the signature checks out, otherwise
  // return null so the normal verify step rejects it.
  handshake (req, config, ctx) {
    if (req.method !== 'POST' || !req.rawBody.includes('url_verification')) return null
    let body: any
    try { body = JSON.parse(req.rawBody.toString('utf8')) } catch { return null }
    if (body?.type !== 'url_verification' || !verifySlack(req, config, ctx.now())) return null
    return { status: 200, contentType: 'text/plain', body: String(body.challenge ?? '') }
  },

  verify: (req, config, ctx) => verifySlack(req, config, ctx.now()),

  parse: (req, _config, ctx) => parseEventCallback(readJson(req), ctx.now()),

  async send (msg, _idempotencyKey, config, ctx): Promise<SendResult> {
    if (config.botToken === undefined) throw notConfigured('slack: botToken is not configured')
    // Thread ids are `${channel}:${thread_ts}` (see parse); Slack wants the bare ts.
    const thread = msg.threadId ?? msg.inReplyTo
    const threadTs = thread?.includes(':') === true ? thread.slice(thread.lastIndexOf(':') + 1) : thread
    const res = await callProvider(ctx, 'slack', `${config.apiBaseUrl}/chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${config.botToken}` },
      body: JSON.stringify({ channel: msg.to, text: msg.text, ...(threadTs ? { thread_ts: threadTs } : {}) })
    })
    // Slack reports most failures as HTTP 200 with ok:false.
    if (!ok(res) || res.json?.ok !== true) {
      const code = str(res.json?.error)
      failHttp('slack', res, ctx.now(), {
        message: code,
        code,
        retryable: isRetryableStatus(res.status) || (code !== undefined && TRANSIENT.has(code))
      })
    }
    return { providerMessageId: `${String(res.json.channel ?? msg.to)}:${String(res.json.ts)}`, status: 'sent' }
  }
}
