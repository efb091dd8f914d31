import type { ChannelAdapter, SendResult } from '../channel-adapter.js'
import { safeEqual } from '../shared/crypto.js'
import { callProvider, failHttp, isRetryableStatus, ok } from '../shared/http.js'
import { header, num, readJson, str } from '../shared/request.js'
import { telegramConfig, type TelegramConfig } from './config.js'
import { parseUpdate } from './parse.js'

/**
 * Telegram Bot API. Point the bot at us with
 *   POST https://api.telegram.org/bot<token>/setWebhook  url=<public>/v1/channels/{id}/inbound  secret_token=<secretToken>
 * Telegram has no body signature; the secret token header is the only authentication.
 */
export const telegramAdapter: ChannelAdapter<TelegramConfig> = {
  kind: 'telegram',
  description: 'Telegram bot: private chats, groups and channel posts via the Bot API webhook',
  capabilities: { receive: true, send: true, deliveryReceipts: false, readReceipts: false, threads: true, attachments: true },
  config: telegramConfig,
  secretFields: ['botToken', 'secretToken'],
  addressKinds: ['telegram:user', 'telegram:chat'],

  verify (req, config) {
    const given = header(req, 'x-telegram-bot-api-secret-token')
    return req.method === 'POST' && given !== undefined && safeEqual(given, config.secretToken)
  },

  parse (req, _config, ctx) {
    return parseUpdate(readJson(req), ctx.now())
  },

  async send (msg, _idempotencyKey, config, ctx): Promise<SendResult> {
    // Telegram has no idempotency key; a retried send after a lost response can duplicate.
    const replyTo = replyMessageId(msg.inReplyTo ?? msg.threadId)
    const body = {
      chat_id: msg.to,
      text: msg.text,
      ...(replyTo !== undefined ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {})
    }
    const res = await callProvider(ctx, 'telegram', `${config.apiBaseUrl}/bot${config.botToken}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body)
    })
    const result = res.json?.result
    if (!ok(res) || res.json?.ok !== true || result?.message_id === undefined) {
      failHttp('telegram', res, ctx.now(), {
        message: str(res.json?.description),
        code: res.json?.error_code,
        retryable: isRetryableStatus(res.status),
        retryAfterSeconds: num(res.json?.parameters?.retry_after)
      })
    }
    return { providerMessageId: `${String(result.chat?.id ?? msg.to)}:${String(result.message_id)}`, status: 'sent' }
  }
}

/** Our ids are `${chatId}:${messageId}[:edited:...]`; Telegram wants the bare message_id. */
function replyMessageId (id: string | undefined): number | undefined {
  const n = Number(id?.includes(':') === true ? id.split(':')[1] : id)
  return Number.isInteger(n) && n > 0 ? n : undefined
}
