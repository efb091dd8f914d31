import type { ChannelAdapter, SendResult } from '../channel-adapter.js'
import { hmac, safeEqual } from '../shared/crypto.js'
import { notConfigured } from '../shared/errors.js'
import { callProvider, failHttp, ok } from '../shared/http.js'
import { header, readJson, str } from '../shared/request.js'
import { xConfig, type XConfig } from './config.js'
import { parseActivity } from './parse.js'

const sign = (secret: string, data: string | Buffer): string => `sha256=${hmac('sha256', secret, data).toString('base64')}`

/**
 * X Account Activity API. Register <public>/v1/channels/{id}/inbound as the webhook URL and
 * subscribe the account; X then sends a CRC GET (on registration and hourly) and signed POSTs.
 */
export const xAdapter: ChannelAdapter<XConfig> = {
  kind: 'x',
  description: 'X (Twitter): direct messages and @mentions via the Account Activity API',
  capabilities: { receive: true, send: true, deliveryReceipts: false, readReceipts: true, threads: true, attachments: true },
  config: xConfig,
  secretFields: ['consumerSecret', 'accessToken'],
  addressKinds: ['x:user'],

  // Challenge-Response Check: proves we hold the consumer secret.
  handshake (req, config) {
    const token = req.query.crc_token
    if (req.method !== 'GET' || token === undefined) return null
    return { status: 200, contentType: 'application/json', body: JSON.stringify({ response_token: sign(config.consumerSecret, token) }) }
  },

  verify (req, config) {
    const sig = header(req, 'x-twitter-webhooks-signature')
    return req.method === 'POST' && sig !== undefined && safeEqual(sig, sign(config.consumerSecret, req.rawBody))
  },

  parse: (req, _config, ctx) => parseActivity(readJson(req), ctx.now()),

  async send (msg, _idempotencyKey, config, ctx): Promise<SendResult> {
    if (config.accessToken === undefined) throw notConfigured('x: accessToken is not configured')
    // X has no idempotency key for DMs; a retry after a lost response can duplicate.
    const url = `${config.apiBaseUrl}/2/dm_conversations/with/${encodeURIComponent(msg.to)}/messages`
    const res = await callProvider(ctx, 'x', url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${config.accessToken}` },
      body: JSON.stringify({ text: msg.text })
    })
    const id = str(res.json?.data?.dm_event_id)
    if (!ok(res) || id === undefined) {
      // X errors are problem+json: { title, detail, type } or { errors: [{ message }] }.
      // On 429 X says when the window resets (x-rate-limit-reset, epoch seconds) instead of Retry-After.
      const reset = Number(res.headers.get('x-rate-limit-reset'))
      failHttp('x', res, ctx.now(), {
        message: str(res.json?.detail) ?? str(res.json?.errors?.[0]?.message) ?? str(res.json?.title),
        retryAfterSeconds: reset > 0 ? Math.max(0, Math.ceil(reset - ctx.now().getTime() / 1000)) : undefined
      })
    }
    return { providerMessageId: id, status: 'sent' }
  }
}
