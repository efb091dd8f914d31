import type { ChannelAdapter, DeliveryStatus, SendResult } from '../channel-adapter.js'
import { notConfigured } from '../shared/errors.js'
import { callProvider, failHttp, ok } from '../shared/http.js'
import { header, readForm, str } from '../shared/request.js'
import { smsConfig, type SmsConfig } from './config.js'
import { parseTwilio, twilioStatus } from './parse.js'
import { validTwilioSignature } from './signature.js'

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

/**
 * SMS/MMS through Twilio. On the number (or Messaging Service) set "A message comes in" to
 * POST <public>/v1/channels/{id}/inbound; set statusCallbackUrl to the same URL for receipts.
 */
export const smsAdapter: ChannelAdapter<SmsConfig> = {
  kind: 'sms',
  description: 'SMS and MMS via Twilio Programmable Messaging',
  capabilities: { receive: true, send: true, deliveryReceipts: true, readReceipts: false, threads: false, attachments: true },
  config: smsConfig,
  secretFields: ['authToken'],
  addressKinds: ['phone'],

  // The signature covers the full URL Twilio called plus the POST parameters (not the raw body);
  // for a webhook configured as GET the parameters are in the URL and only the URL is signed.
  verify (req, config) {
    const sig = header(req, 'x-twilio-signature')
    if (sig === undefined) return false
    const params = req.method === 'POST' ? readForm(req).fields : new URLSearchParams()
    return validTwilioSignature(config.authToken, req.url, params, sig)
  },

  parse: (req, _config, ctx) => parseTwilio(req.method === 'GET' ? new URLSearchParams(req.query) : readForm(req).fields, ctx.now()),

  // Without a TwiML answer Twilio logs error 12200 for incoming messages; empty = no auto-reply.
  inboundResponse: () => ({ status: 200, contentType: 'text/xml', body: EMPTY_TWIML }),

  mapStatus: (s): DeliveryStatus => twilioStatus(s) ?? 'sent',

  async send (msg, idempotencyKey, config, ctx): Promise<SendResult> {
    if (config.from === undefined && config.messagingServiceSid === undefined) {
      throw notConfigured('sms: configure from or messagingServiceSid to send')
    }
    const form = new URLSearchParams({ To: msg.to, Body: msg.text })
    if (config.messagingServiceSid !== undefined) form.set('MessagingServiceSid', config.messagingServiceSid)
    else if (config.from !== undefined) form.set('From', config.from)
    if (config.statusCallbackUrl !== undefined) form.set('StatusCallback', config.statusCallbackUrl)

    const url = `${config.apiBaseUrl}/2010-04-01/Accounts/${config.accountSid}/Messages.json`
    const res = await callProvider(ctx, 'twilio', url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        // Twilio's name for a retry marker (its own webhooks carry it). Dedupe on it by the
        // Messages API is not something to rely on: a retry after a lost response may duplicate.
        'i-twilio-idempotency-token': idempotencyKey
      },
      body: form.toString()
    })
    const sid = str(res.json?.sid)
    if (!ok(res) || sid === undefined) {
      // Twilio errors: { code: 21211, message: "...", more_info, status }.
      failHttp('twilio', res, ctx.now(), { message: str(res.json?.message), code: res.json?.code })
    }
    return { providerMessageId: sid, status: twilioStatus(String(res.json.status)) ?? 'queued' }
  }
}
