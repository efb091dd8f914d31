import { Webhook } from 'standardwebhooks'
import type { ChannelAdapter, RawInboundRequest, SendResult } from '../channel-adapter.js'
import { hmac, safeEqual, withinWindow } from '../shared/crypto.js'
import { notConfigured } from '../shared/errors.js'
import { callProvider, failHttp, ok } from '../shared/http.js'
import { header, readJson } from '../shared/request.js'
import { webhookConfig, type WebhookConfig } from './config.js'
import { parseWebhookPayload } from './format.js'

/**
 * Standard Webhooks verification (github.com/standard-webhooks/standard-webhooks): base64
 * HMAC-SHA256 of `${id}.${timestamp}.${body}` with the base64-decoded secret, any `v1,` entry of
 * the space-separated header may match. Done with node:crypto rather than the package's verify
 * because that reads Date.now(); the 5-minute window here uses the injected clock.
 */
export function verifyStandardWebhook (req: RawInboundRequest, secret: string, now: Date): boolean {
  const id = header(req, 'webhook-id')
  const ts = header(req, 'webhook-timestamp')
  const signatures = header(req, 'webhook-signature')
  if (id === undefined || signatures === undefined || !withinWindow(ts, now, 300)) return false
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = hmac('sha256', key, Buffer.concat([Buffer.from(`${id}.${ts ?? ''}.`), req.rawBody])).toString('base64')
  return signatures.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2)
    return version === 'v1' && sig !== undefined && safeEqual(sig, expected)
  })
}

/**
 * Generic webhooks in both directions, for systems without a dedicated adapter. Senders POST to
 * <public>/v1/channels/{id}/inbound; we POST outbound messages to config.url.
 */
export const webhookAdapter: ChannelAdapter<WebhookConfig> = {
  kind: 'webhook',
  description: 'Generic Standard Webhooks: signed JSON in and out',
  capabilities: { receive: true, send: true, deliveryReceipts: true, readReceipts: true, threads: true, attachments: true },
  config: webhookConfig,
  secretFields: ['secret'],
  addressKinds: ['external'],

  verify: (req, config, ctx) => req.method === 'POST' && verifyStandardWebhook(req, config.secret, ctx.now()),

  parse: (req) => parseWebhookPayload(readJson(req)),

  async send (msg, idempotencyKey, config, ctx): Promise<SendResult> {
    if (config.url === undefined) throw notConfigured('webhook: url is not configured')
    const now = ctx.now()
    const body = JSON.stringify({
      type: 'message.sent',
      timestamp: now.toISOString(),
      data: { id: idempotencyKey, to: msg.to, subject: msg.subject, text: msg.text, threadId: msg.threadId, inReplyTo: msg.inReplyTo }
    })
    // webhook-id is the idempotency key: the spec says receivers dedupe retries on it.
    const res = await callProvider(ctx, 'webhook', config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': idempotencyKey,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(config.secret).sign(idempotencyKey, now, body)
      },
      body
    })
    if (!ok(res)) failHttp('webhook', res, now)
    // The receiver answering 2xx is as far as delivery can be observed.
    return { providerMessageId: idempotencyKey, status: 'delivered' }
  }
}
