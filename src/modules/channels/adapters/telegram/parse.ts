import type { InboundAttachment, InboundEvent, InboundMessageEvent } from '../channel-adapter.js'
import { arr, dateFrom, num, str, type Loose } from '../shared/request.js'

/** Update fields that carry a Message; everything else (callback_query, poll, ...) is ignored. */
const MESSAGE_FIELDS = ['message', 'edited_message', 'channel_post', 'edited_channel_post'] as const

/** One Telegram Update (core.telegram.org/bots/api#update) -> at most one message event. */
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

  // An edit reuses message_id; a distinct id keeps the core's dedupe from dropping the new text.
  const edited = field.startsWith('edited_')
  const providerMessageId = edited ? `${chatId}:${messageId}:edited:${str(m.edit_date) ?? '0'}` : `${chatId}:${messageId}`
  const replyTo = str(m.reply_to_message?.message_id)

  const text = str(m.text) ?? str(m.caption) ?? sharedText(m)
  const files = attachments(m)
  // Service messages (members joining, pinned messages, title changes...) carry neither.
  if (text === undefined && files.length === 0) return []

  const event: InboundMessageEvent = {
    type: 'message',
    providerMessageId,
    threadId: replyTo === undefined ? undefined : `${chatId}:${replyTo}`,
    sender,
    recipient: chatId,
    text,
    attachments: files,
    sentAt: dateFrom(edited ? m.edit_date ?? m.date : m.date, 's', now),
    interactionKind: field.includes('channel_post') ? 'post' : 'message',
    identityKind: user !== undefined ? 'telegram:user' : 'telegram:chat'
  }
  return [event]
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
