import type { ChannelAdapter, DeliveryStatus } from '../channel-adapter.js'
import { hmac, safeEqual } from '../shared/crypto.js'
import { header, readJson } from '../shared/request.js'
import { metaConfig, type MetaConfig } from './config.js'
import { parseMessaging } from './messaging.js'
import { sendMeta } from './send.js'
import { parseWhatsApp, whatsappStatus } from './whatsapp.js'

/**
 * Meta platforms: Messenger, Instagram messaging and WhatsApp Cloud API share one webhook
 * mechanism. In the App Dashboard set Callback URL <public>/v1/channels/{id}/inbound and the
 * Verify Token, then subscribe the `messages` (and `message_deliveries`, `message_reads`) fields.
 */
export const metaAdapter: ChannelAdapter<MetaConfig> = {
  kind: 'meta',
  description: 'Meta: Facebook Messenger, Instagram Direct and WhatsApp Cloud API',
  capabilities: { receive: true, send: true, deliveryReceipts: true, readReceipts: true, threads: true, attachments: true },
  config: metaConfig,
  secretFields: ['appSecret', 'verifyToken', 'accessToken'],
  addressKinds: ['meta:psid', 'meta:igsid', 'phone'],

  // developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
  handshake (req, config) {
    if (req.method !== 'GET' || req.query['hub.mode'] === undefined) return null
    const token = req.query['hub.verify_token'] ?? ''
    if (req.query['hub.mode'] !== 'subscribe' || !safeEqual(token, config.verifyToken)) {
      return { status: 403, contentType: 'text/plain', body: 'verify token mismatch' }
    }
    return { status: 200, contentType: 'text/plain', body: req.query['hub.challenge'] ?? '' }
  },

  // X-Hub-Signature-256 is a hex HMAC-SHA256 of the raw body with the app secret.
  verify (req, config) {
    const sig = header(req, 'x-hub-signature-256')
    return req.method === 'POST' && sig !== undefined &&
      safeEqual(sig.toLowerCase(), `sha256=${hmac('sha256', config.appSecret, req.rawBody).toString('hex')}`)
  },

  parse (req, _config, ctx) {
    const body = readJson(req)
    switch (body.object) {
      case 'page': return parseMessaging(body, 'meta:psid', ctx.now())
      case 'instagram': return parseMessaging(body, 'meta:igsid', ctx.now())
      case 'whatsapp_business_account': return parseWhatsApp(body, ctx.now())
      default: return []
    }
  },

  send: async (msg, _idempotencyKey, config, ctx) => await sendMeta(msg, config, ctx),

  mapStatus: (s): DeliveryStatus => whatsappStatus(s) ?? 'sent'
}
