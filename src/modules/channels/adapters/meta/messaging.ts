import type { InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, str, type Loose } from '../shared/request.js'

/**
 * Messenger (`object: page`) and Instagram (`object: instagram`) share the `entry[].messaging[]`
 * shape (developers.facebook.com/docs/messenger-platform/webhooks). Each item is one of
 * message / postback / delivery / read; others (reactions, optins, referrals) are ignored.
 */
export function parseMessaging (body: Loose, identityKind: 'meta:psid' | 'meta:igsid', now: Date): InboundEvent[] {
  const events: InboundEvent[] = []
  for (const entry of arr(body?.entry)) {
    for (const ev of arr(entry?.messaging)) {
      const user = str(ev?.sender?.id)
      const at = dateFrom(ev?.timestamp, 'ms', now)
      const m = ev?.message ?? ev?.postback
      if (m !== undefined && user !== undefined) {
        // Echoes are copies of messages the page itself sent; deleted/unsupported carry no content.
        if (m.is_echo === true || m.is_deleted === true || str(m.mid) === undefined) continue
        events.push({
          type: 'message',
          providerMessageId: String(m.mid),
          threadId: str(m.reply_to?.mid),
          sender: { handle: user },
          recipient: str(ev.recipient?.id),
          // A postback is a button tap: its title is what the person "said".
          text: str(m.text) ?? str(m.title),
          attachments: arr(m.attachments).map((a: Loose) => ({
            url: str(a?.payload?.url),
            // Meta gives a coarse type, not a MIME type.
            contentType: ['image', 'video', 'audio'].includes(a?.type) ? `${String(a.type)}/*` : undefined,
            name: str(a?.title)
          })),
          sentAt: at,
          interactionKind: 'message',
          identityKind
        })
      } else if (ev?.delivery !== undefined) {
        events.push(...receipts(ev.delivery, 'delivered', user, at))
      } else if (ev?.read !== undefined) {
        events.push(...receipts(ev.read, 'read', user, at))
      }
    }
  }
  return events
}

/**
 * Delivery has `mids` (may be absent) and a watermark; Messenger read has only a watermark,
 * Instagram read has a `mid`. Watermarks become one event the core applies by time.
 */
function receipts (r: Loose, status: 'delivered' | 'read', user: string | undefined, at: Date): InboundEvent[] {
  const mids = [...arr(r.mids), r.mid].map(str).filter((m): m is string => m !== undefined)
  if (mids.length > 0) return mids.map((id) => ({ type: 'status', providerMessageId: id, status, occurredAt: at }))
  if (r.watermark === undefined || user === undefined) return []
  const before = dateFrom(r.watermark, 'ms', at)
  return [{ type: 'status', providerMessageId: '', status, occurredAt: at, watermark: { recipient: user, before } }]
}
