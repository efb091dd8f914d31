import type { InboundAttachment, InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, str, type Loose } from '../shared/request.js'

/**
 * Messenger (`object: page`) and Instagram (`object: instagram`) share the `entry[].messaging[]`
 * shape (developers.facebook.com/docs/messenger-platform/webhooks). Each item is one of
 * message / postback / message_edit / delivery / read; others (reactions, optins, referrals) are
 * ignored.
 * `standby[]` carries the same items while another app owns the conversation (handover protocol):
 * they are still the customer's messages, so they are logged too.
 *
 * Echoes (`is_echo`: what the page itself sent, from Rapport or from the Page inbox, Meta Business
 * Suite, another app) are `echo` events: sender is the page, recipient the person. Messenger sends
 * them to the `message_echoes` field, Instagram with `messages`. Echoes of Rapport's own sends
 * carry the `mid` the Send API answered, which the core already logged: they add nothing.
 */
export function parseMessaging (body: Loose, identityKind: 'meta:psid' | 'meta:igsid', now: Date): InboundEvent[] {
  const events: InboundEvent[] = []
  for (const entry of arr(body?.entry)) {
    for (const ev of [...arr(entry?.messaging), ...arr(entry?.standby)]) {
      const user = str(ev?.sender?.id)
      const at = dateFrom(ev?.timestamp, 'ms', now)
      const m = ev?.message ?? ev?.postback
      if (m !== undefined && m !== null && user !== undefined) {
        // Deleted/unsupported messages carry no content.
        if (m.is_deleted === true || m.is_unsupported === true) continue
        const attachments = arr(m.attachments)
        if (m.is_echo === true) {
          const person = str(ev.recipient?.id)
          const mid = str(m.mid)
          if (person === undefined || mid === undefined) continue
          events.push({
            type: 'echo',
            providerMessageId: mid,
            threadId: str(m.reply_to?.mid),
            to: { handle: person },
            from: user,
            text: str(m.text) ?? attachments.map(locationText).find((t) => t !== undefined),
            attachments: files(attachments),
            sentAt: at,
            interactionKind: 'message',
            identityKind
          })
          continue
        }
        // Postbacks from before mid was added have none: sender and time identify the tap.
        const id = str(m.mid) ?? (ev.postback !== undefined ? `postback:${user}:${String(ev.timestamp)}` : undefined)
        if (id === undefined) continue
        events.push({
          type: 'message',
          providerMessageId: id,
          threadId: str(m.reply_to?.mid),
          sender: { handle: user },
          recipient: str(ev.recipient?.id),
          // A postback is a button tap: its title is what the person "said".
          text: str(m.text) ?? str(m.title) ?? attachments.map(locationText).find((t) => t !== undefined),
          attachments: files(attachments),
          sentAt: at,
          interactionKind: 'message',
          identityKind
        })
      } else if (ev?.message_edit !== undefined && user !== undefined) {
        // The `message_edits` webhook field: `mid` is the edited message's, `text` its new text,
        // `timestamp` when it was edited. It says nothing else of the message (sent when, in reply
        // to what), which only matters if the original was never logged.
        const mid = str(ev.message_edit?.mid)
        if (mid === undefined) continue
        events.push({
          type: 'edit',
          providerMessageId: mid,
          sender: { handle: user },
          recipient: str(ev.recipient?.id),
          text: str(ev.message_edit.text),
          attachments: [],
          sentAt: at,
          editedAt: at,
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
 * Meta gives a coarse type, not a MIME type. A sticker came as an `image` attachment and, since
 * mid-2026, also as a `sticker` one with the same sticker_id: it is kept once.
 */
function files (attachments: Loose[]): InboundAttachment[] {
  const stickers = new Set<string>()
  const out: InboundAttachment[] = []
  for (const a of attachments) {
    if (a?.type === 'location') continue
    const sticker = str(a?.payload?.sticker_id)
    if (sticker !== undefined && stickers.has(sticker)) continue
    if (sticker !== undefined) stickers.add(sticker)
    out.push({ url: str(a?.payload?.url), contentType: COARSE_TYPES.get(a?.type), name: str(a?.title), providerFileId: sticker })
  }
  return out
}

const COARSE_TYPES = new Map<unknown, string>([['image', 'image/*'], ['sticker', 'image/*'], ['video', 'video/*'], ['audio', 'audio/*']])

/** A shared location (older Messenger clients) has coordinates and no URL: its text is where. */
function locationText (a: Loose): string | undefined {
  const c = a?.payload?.coordinates
  if (a?.type !== 'location' || c?.lat === undefined || c?.long === undefined) return undefined
  return [str(a.title), `${String(c.lat)},${String(c.long)}`].filter(Boolean).join(' ')
}

/**
 * Delivery has `mids` (may be absent) and a watermark; Messenger read has only a watermark,
 * Instagram read has a `mid`. Watermarks become one event the core applies by time.
 */
function receipts (r: Loose, status: 'delivered' | 'read', user: string | undefined, at: Date): InboundEvent[] {
  const mids = [...arr(r?.mids), r?.mid].map(str).filter((m): m is string => m !== undefined)
  if (mids.length > 0) return mids.map((id) => ({ type: 'status', providerMessageId: id, status, occurredAt: at }))
  if (r?.watermark === undefined || user === undefined) return []
  const before = dateFrom(r.watermark, 'ms', at)
  return [{ type: 'status', providerMessageId: '', status, occurredAt: at, watermark: { recipient: user, before } }]
}
