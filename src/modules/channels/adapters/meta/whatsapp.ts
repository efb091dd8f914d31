import type { DeliveryStatus, InboundAttachment, InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, e164, str, type Loose } from '../shared/request.js'

const MEDIA = ['image', 'video', 'audio', 'document', 'sticker'] as const
/** Not conversation content: reactions attach to another message, system = number changes etc. */
const SKIP = new Set(['reaction', 'system', 'request_welcome', 'ephemeral'])

const STATUSES = new Map<string, DeliveryStatus>([['sent', 'sent'], ['delivered', 'delivered'], ['read', 'read'], ['failed', 'failed']])

/** WhatsApp status names; undefined for ones we do not track (e.g. 'deleted', 'warning'). */
export function whatsappStatus (s: string): DeliveryStatus | undefined {
  return STATUSES.get(s)
}

/**
 * WhatsApp Cloud API (`object: whatsapp_business_account`): entry[].changes[] with
 * field 'messages'; value.messages[] are inbound, value.statuses[] are receipts for what we sent.
 */
export function parseWhatsApp (body: Loose, now: Date): InboundEvent[] {
  const events: InboundEvent[] = []
  for (const entry of arr(body?.entry)) {
    for (const change of arr(entry?.changes)) {
      if (change?.field !== 'messages') continue
      const v = change.value ?? {}
      const names = new Map(arr(v.contacts).map((c: Loose) => [str(c?.wa_id), str(c?.profile?.name)]))
      const us = str(v.metadata?.display_phone_number)
      for (const m of arr(v.messages)) {
        const from = str(m?.from)
        if (from === undefined || str(m.id) === undefined || SKIP.has(m.type)) continue
        events.push({
          type: 'message',
          providerMessageId: String(m.id),
          threadId: str(m.context?.id),
          sender: { handle: e164(from), name: names.get(from) },
          recipient: us === undefined ? undefined : e164(us),
          text: messageText(m),
          attachments: attachments(m),
          sentAt: dateFrom(m.timestamp, 's', now),
          interactionKind: 'message',
          identityKind: 'phone'
        })
      }
      for (const s of arr(v.statuses)) {
        const status = whatsappStatus(String(s?.status))
        if (status === undefined || str(s.id) === undefined) continue
        const err = s.errors?.[0]
        events.push({
          type: 'status',
          providerMessageId: String(s.id),
          status,
          occurredAt: dateFrom(s.timestamp, 's', now),
          ...(err !== undefined ? { error: [err.code, err.title, err.error_data?.details].filter(Boolean).join(' ') } : {})
        })
      }
    }
  }
  return events
}

function messageText (m: Loose): string | undefined {
  if (m.type === 'text') return str(m.text?.body)
  if (m.type === 'button') return str(m.button?.text)
  if (m.type === 'interactive') return str(m.interactive?.button_reply?.title) ?? str(m.interactive?.list_reply?.title)
  if (m.type === 'location') return [str(m.location?.name), str(m.location?.address), `${String(m.location?.latitude)},${String(m.location?.longitude)}`].filter(Boolean).join(' ')
  return str(m[m.type]?.caption)
}

/** Media arrives as an id; the bytes are fetched later via GET /{media-id} with the token. */
function attachments (m: Loose): InboundAttachment[] {
  if (!MEDIA.includes(m.type)) return []
  const f = m[m.type] ?? {}
  return [{ name: str(f.filename), contentType: str(f.mime_type), providerFileId: str(f.id) }]
}
