import type { ChannelAdapter, DeliveryStatus, SendResult } from '../channel-adapter.js'
import { safeEqual } from '../shared/crypto.js'
import { notConfigured } from '../shared/errors.js'
import { header, readJson } from '../shared/request.js'
import { emailConfig, type EmailConfig } from './config.js'
import { parseMailgun, verifyMailgun } from './mailgun.js'
import { parsePostmark, sendPostmark } from './postmark.js'
import { sendSmtp } from './smtp.js'

/** Postmark RecordType and Mailgun event names. */
const STATUSES = new Map<string, DeliveryStatus>([
  ['Delivery', 'delivered'], ['Bounce', 'failed'], ['Open', 'read'],
  ['accepted', 'queued'], ['delivered', 'delivered'], ['failed', 'failed'], ['rejected', 'failed'], ['opened', 'read']
])

/**
 * Email. Inbound: a Postmark inbound stream or a Mailgun route ("forward" / "store and notify")
 * pointed at <public>/v1/channels/{id}/inbound (Postmark: https://user:pass@host/v1/...).
 * Outbound: SMTP (any server) or Postmark's HTTP API.
 */
export const emailAdapter: ChannelAdapter<EmailConfig> = {
  kind: 'email',
  description: 'Email: inbound via Postmark or Mailgun webhooks, outbound via SMTP or Postmark',
  capabilities: { receive: true, send: true, deliveryReceipts: true, readReceipts: true, threads: true, attachments: true },
  config: emailConfig,
  secretFields: ['basicAuthPassword', 'mailgunSigningKey', 'smtpPass', 'postmarkServerToken'],
  addressKinds: ['email'],

  verify (req, config, ctx) {
    if (req.method !== 'POST') return false
    if (config.inboundFormat === 'mailgun') return verifyMailgun(req, config.mailgunSigningKey ?? '', ctx.now())
    if (config.inboundFormat === 'postmark') {
      // Postmark has no signature: HTTP Basic credentials from the webhook URL are the check.
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header(req, 'authorization') ?? '')
      if (m === null) return false
      const given = Buffer.from(m[1], 'base64').toString('utf8')
      return safeEqual(given, `${config.basicAuthUser ?? ''}:${config.basicAuthPassword ?? ''}`)
    }
    return false
  },

  parse (req, config, ctx) {
    if (config.inboundFormat === 'mailgun') return parseMailgun(req, ctx.now())
    if (config.inboundFormat === 'postmark') return parsePostmark(readJson(req), ctx.now())
    return []
  },

  async send (msg, idempotencyKey, config, ctx): Promise<SendResult> {
    if (config.transport === 'smtp') return await sendSmtp(msg, idempotencyKey, config)
    if (config.transport === 'postmark') return await sendPostmark(msg, idempotencyKey, config, ctx)
    throw notConfigured('email: no outbound transport configured')
  },

  mapStatus: (s): DeliveryStatus => STATUSES.get(s) ?? 'sent'
}
