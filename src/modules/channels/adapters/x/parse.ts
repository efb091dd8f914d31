import type { InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, num, str, type Loose } from '../shared/request.js'

/**
 * Account Activity API payload (docs.x.com, "Account Activity data objects"). One POST is for one
 * subscribed account (`for_user_id`) and may carry several event arrays.
 */
export function parseActivity (body: Loose, now: Date): InboundEvent[] {
  const me = str(body?.for_user_id)
  const users = body?.users ?? {}
  const events: InboundEvent[] = []

  for (const dm of arr(body?.direct_message_events)) {
    const mc = dm?.message_create
    const senderId = str(mc?.sender_id)
    if (dm?.type !== 'message_create' || senderId === undefined || str(dm.id) === undefined) continue
    const recipientId = str(mc.target?.recipient_id)
    // `?? undefined`: a null from the provider is as absent as a missing key.
    const media = mc.message_data?.attachment?.media ?? undefined
    // X appends the media's t.co link to the text; the attachment already carries the media.
    const mediaLink = str(media?.url)
    const text = str(mc.message_data?.text)
    const message = {
      providerMessageId: String(dm.id),
      text: mediaLink === undefined ? text : str(text?.replace(mediaLink, '').trim()),
      attachments: media === undefined
        ? []
        : [{ url: str(media.media_url_https), contentType: mediaType(media.type), providerFileId: str(media.id_str) }],
      sentAt: dateFrom(dm.created_timestamp, 'ms', now),
      interactionKind: 'message' as const,
      identityKind: 'x:user'
    }
    if (senderId === me) {
      // A DM our account sent (from X's app, or Rapport's own send, whose dm_event_id the core
      // already logged): the contact is its recipient.
      if (recipientId !== undefined) events.push({ type: 'echo', ...message, to: { handle: recipientId, name: str(users[recipientId]?.name) }, from: me })
      continue
    }
    events.push({ type: 'message', ...message, sender: { handle: senderId, name: str(users[senderId]?.name) }, recipient: recipientId })
  }

  // The other party read our DMs up to last_read_event_id.
  for (const r of arr(body?.direct_message_mark_read_events)) {
    const id = str(r?.last_read_event_id)
    if (id === undefined || str(r.sender_id) === me) continue
    events.push({ type: 'status', providerMessageId: id, status: 'read', occurredAt: dateFrom(r.created_timestamp, 'ms', now) })
  }

  // Tweets addressed to the account: mentions, and replies to its tweets. Our own tweets are
  // skipped, and so are retweets: "RT @us: …" repeats our words, it says nothing to us.
  for (const tw of arr(body?.tweet_create_events)) {
    const authorId = str(tw?.user?.id_str)
    const addressed = str(tw?.in_reply_to_user_id_str) === me || arr(tw?.entities?.user_mentions).some((u: Loose) => str(u?.id_str) === me)
    if (authorId === undefined || authorId === me || !addressed || tw.retweeted_status != null || str(tw.id_str) === undefined) continue
    events.push({
      type: 'message',
      providerMessageId: String(tw.id_str),
      threadId: str(tw.in_reply_to_status_id_str),
      sender: { handle: authorId, name: str(tw.user.name) },
      recipient: me,
      text: str(tw.extended_tweet?.full_text) ?? str(tw.text),
      attachments: arr(tw.extended_entities?.media ?? tw.entities?.media).map((m: Loose) => ({
        url: str(m?.media_url_https), contentType: mediaType(m?.type), providerFileId: str(m?.id_str), size: num(m?.size)
      })),
      sentAt: dateFrom(tw.timestamp_ms, 'ms', now),
      interactionKind: 'mention',
      identityKind: 'x:user'
    })
  }
  return events
}

/** X media types are photo, video and animated_gif (an animated GIF is delivered as MP4 video). */
function mediaType (type: unknown): string | undefined {
  if (type === 'photo') return 'image/*'
  if (type === 'video' || type === 'animated_gif') return 'video/*'
  return undefined
}
