import type { AdapterContext, OutboundMessage, SendResult } from '../channel-adapter.js'
import { notConfigured } from '../shared/errors.js'
import { callProvider, failHttp, isRetryableStatus, ok } from '../shared/http.js'
import { str } from '../shared/request.js'
import type { MetaConfig } from './config.js'

/** Graph API error codes that mean "later" rather than "never" (throttling, temporary outage). */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 613, 80007, 130429, 131056])

/**
 * WhatsApp: POST /{version}/{phone-number-id}/messages; Messenger and Instagram: POST
 * /{version}/me/messages with the page token. The Graph API has no idempotency key, so a retry
 * after a lost response can duplicate; retries are limited to errors Meta marks transient.
 */
export async function sendMeta (msg: OutboundMessage, config: MetaConfig, ctx: AdapterContext): Promise<SendResult> {
  if (config.accessToken === undefined) throw notConfigured('meta: accessToken is not configured')
  const whatsapp = config.platform === 'whatsapp'
  const path = whatsapp ? `${config.phoneNumberId ?? ''}/messages` : 'me/messages'
  const replyTo = msg.inReplyTo ?? msg.threadId
  const body = whatsapp
    ? {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: msg.to.replace(/^\+/, ''),
        type: 'text',
        text: { body: msg.text, preview_url: false },
        ...(replyTo !== undefined ? { context: { message_id: replyTo } } : {})
      }
    : { recipient: { id: msg.to }, messaging_type: 'RESPONSE', message: { text: msg.text } }

  const res = await callProvider(ctx, 'meta', `${config.apiBaseUrl}/${config.apiVersion}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${config.accessToken}` },
    body: JSON.stringify(body)
  })
  const id = whatsapp ? str(res.json?.messages?.[0]?.id) : str(res.json?.message_id)
  if (!ok(res) || id === undefined) {
    const e = res.json?.error
    failHttp('meta', res, ctx.now(), {
      message: str(e?.message),
      code: e?.code,
      // Meta reports throttling as HTTP 400 with a code, sometimes with is_transient.
      retryable: isRetryableStatus(res.status) || e?.is_transient === true || TRANSIENT_CODES.has(e?.code)
    })
  }
  // WhatsApp only accepts here; its 'sent' arrives as a status webhook. Messenger's answer means sent.
  return { providerMessageId: id, status: whatsapp ? 'queued' : 'sent' }
}
