import type { InboundAttachment, InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, num, str, type Loose } from '../shared/request.js'

/** Update fields that carry a Message; everything else (callback_query, poll, ...) is ignored. */
const MESSAGE_FIELDS = ['message', 'edited_message', 'channel_post', 'edited_channel_post'] as const

/** One Telegram Update (core.telegram.org/bots/api#update) -> at most one message or edit event. */
export function parseUpdate (update: Loose, now: Date): InboundEvent[] {
  const field = MESSAGE_FIELDS.find((f) => update?.[f] !== undefined)
  if (field === undefined) return []
  const m = update[field]
  const chatId = str(m?.chat?.id)
  const messageId = str(m?.message_id)
  if (chatId === undefined || messageId === undefined) return []

  // Channel posts and anonymous group admins have sender_chat instead of a user.
  const user = m.from ?? undefined
  const sender = user !== undefined
    ? { handle: String(user.id), name: fullName(user) ?? str(user.username) }
    : { handle: String(m.sender_chat?.id ?? chatId), name: str(m.sender_chat?.title ?? m.chat?.title) }

  const replyTo = str(m.reply_to_message?.message_id)

  const text = str(m.text) ?? str(m.caption) ?? sharedText(m)
  const files = attachments(m)
  // Service messages (members joining, pinned messages, title changes...) carry neither.
  if (text === undefined && files.length === 0) return []

  const message = {
    // An edit reuses the message_id: the same id names the interaction the edit updates.
    providerMessageId: `${chatId}:${messageId}`,
    threadId: replyTo === undefined ? undefined : `${chatId}:${replyTo}`,
    sender,
    recipient: chatId,
    text,
    attachments: files,
    sentAt: dateFrom(m.date, 's', now),
    interactionKind: field.includes('channel_post') ? 'post' as const : 'message' as const,
    identityKind: user !== undefined ? 'telegram:user' : 'telegram:chat'
  }
  // edited_message / edited_channel_post carry the whole message as it now reads, with edit_date.
  if (field.startsWith('edited_')) return [{ type: 'edit', ...message, editedAt: dateFrom(m.edit_date ?? m.date, 's', now) }]
  return [{ type: 'message', ...message }]
}

/** Content without text: a shared location, venue, contact card or poll, said in words. */
function sharedText (m: Loose): string | undefined {
  if (m.venue !== undefined) return [str(m.venue.title), str(m.venue.address)].filter(Boolean).join(', ') || undefined
  if (m.location !== undefined) return `${String(m.location.latitude)},${String(m.location.longitude)}`
  if (m.contact !== undefined) return [fullName(m.contact), str(m.contact.phone_number)].filter(Boolean).join(' ') || undefined
  if (m.poll !== undefined) return str(m.poll.question)
  return undefined
}

function fullName (user: Loose): string | undefined {
  const name = [str(user?.first_name), str(user?.last_name)].filter(Boolean).join(' ')
  return name === '' ? undefined : name
}

/** Metadata only: Telegram files are fetched later through getFile with the file_id. */
function attachments (m: Loose): InboundAttachment[] {
  const out: InboundAttachment[] = []
  // `photo` is the same image in several sizes, smallest first: keep the largest.
  const photo = arr(m.photo).at(-1) ?? undefined
  if (photo !== undefined) out.push({ contentType: 'image/jpeg', size: num(photo.file_size), providerFileId: str(photo.file_id) })
  for (const kind of ['document', 'video', 'audio', 'voice', 'animation', 'video_note', 'sticker']) {
    const f = m[kind] ?? undefined
    if (f === undefined) continue
    out.push({ name: str(f.file_name), contentType: str(f.mime_type), size: num(f.file_size), providerFileId: str(f.file_id) })
  }
  return out
}
