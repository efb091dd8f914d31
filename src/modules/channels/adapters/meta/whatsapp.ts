import type { DeliveryStatus, InboundAttachment, InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, e164, str, type Loose } from '../shared/request.js'

const MEDIA = ['image', 'video', 'audio', 'document', 'sticker'] as const
/**
 * Not conversation content: reactions attach to another message, system = number changes etc.,
 * unsupported = something WhatsApp could not hand over (it has no content to log).
 */
const SKIP = new Set(['reaction', 'system', 'request_welcome', 'ephemeral', 'unsupported'])

const STATUSES = new Map<string, DeliveryStatus>([['sent', 'sent'], ['delivered', 'delivered'], ['read', 'read'], ['failed', 'failed']])

/** WhatsApp status names; undefined for ones we do not track (e.g. 'deleted', 'warning'). */
export function whatsappStatus (s: string): DeliveryStatus | undefined {
  return STATUSES.get(s)
}

/**
 * WhatsApp Cloud API (`object: whatsapp_business_account`): entry[].changes[] with
 * field 'messages'; value.messages[] are inbound (edits of earlier ones included), value.statuses[]
 * are receipts for what we sent.
 */
export function parseWhatsApp (body: Loose, now: Date): InboundEvent[] {
  const events: InboundEvent[] = []
  for (const entry of arr(body?.entry)) {
    for (const change of arr(entry?.changes)) {
      if (change?.field !== 'messages') continue
      const v = change.value ?? {}
      const names = new Map<string | undefined, string | undefined>()
      for (const c of arr(v.contacts)) {
        const name = str(c?.profile?.name) ?? str(c?.profile?.username)
        names.set(str(c?.wa_id), name)
        names.set(str(c?.user_id), name)
      }
      const us = str(v.metadata?.display_phone_number)
      for (const m of arr(v.messages)) {
        const sender = senderOf(m)
        if (sender === undefined || str(m.id) === undefined || SKIP.has(m.type)) continue
        // An edit (type `edit`) names the original by `edit.original_message_id` and carries the
        // message as it now reads in `edit.message`; `timestamp` is when the edit was made.
        const edited = m.type === 'edit'
        const content: Loose = edited ? m.edit?.message ?? {} : m
        const providerMessageId = edited ? str(m.edit?.original_message_id) : String(m.id)
        if (providerMessageId === undefined) continue
        const at = dateFrom(m.timestamp, 's', now)
        const message = {
          providerMessageId,
          threadId: str(content.context?.id),
          sender: { handle: sender.handle, name: names.get(sender.key) },
          recipient: us === undefined ? undefined : e164(us),
          text: messageText(content),
          attachments: attachments(content),
          sentAt: at,
          interactionKind: 'message' as const,
          identityKind: sender.identityKind
        }
        events.push(edited ? { type: 'edit', ...message, editedAt: at } : { type: 'message', ...message })
      }
      for (const s of arr(v.statuses)) {
        const status = whatsappStatus(String(s?.status))
        if (status === undefined || str(s.id) === undefined) continue
        const err: Loose = arr(s.errors)[0] ?? undefined
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

/**
 * The person is their phone number (`from`). A user with a WhatsApp username may have it withheld
 * (2026 rollout); then only the business-scoped user id (`from_user_id`) identifies them.
 */
function senderOf (m: Loose): { key: string, handle: string, identityKind: string } | undefined {
  const phone = str(m?.from)
  if (phone !== undefined) return { key: phone, handle: e164(phone), identityKind: 'phone' }
  const bsuid = str(m?.from_user_id)
  return bsuid === undefined ? undefined : { key: bsuid, handle: bsuid, identityKind: 'meta:bsuid' }
}

function messageText (m: Loose): string | undefined {
  if (m.type === 'text') return str(m.text?.body)
  if (m.type === 'button') return str(m.button?.text)
  if (m.type === 'interactive') {
    const i = m.interactive
    return str(i?.button_reply?.title) ?? str(i?.list_reply?.title) ?? str(i?.nfm_reply?.body)
  }
  if (m.type === 'contacts') {
    // Shared contact cards: who was shared, with their numbers.
    return arr(m.contacts).map((c: Loose) => [str(c?.name?.formatted_name), ...arr(c?.phones).map((p: Loose) => str(p?.phone))].filter(Boolean).join(' ')).join('\n') || undefined
  }
  if (m.type === 'order') return str(m.order?.text)
  if (m.type === 'location') return [str(m.location?.name), str(m.location?.address), `${String(m.location?.latitude)},${String(m.location?.longitude)}`].filter(Boolean).join(' ')
  return str(m[m.type]?.caption)
}

/** Media arrives as an id; the bytes are fetched later via GET /{media-id} with the token. */
function attachments (m: Loose): InboundAttachment[] {
  if (!MEDIA.includes(m.type)) return []
  const f = m[m.type] ?? {}
  return [{ name: str(f.filename), contentType: str(f.mime_type), providerFileId: str(f.id) }]
}
