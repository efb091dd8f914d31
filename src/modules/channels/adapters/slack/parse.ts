import type { InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, num, str, type Loose } from '../shared/request.js'

/**
 * Message subtypes that are a person saying something (`/me` included); deletions, joins, topic
 * changes, bot posts etc. are not, and are acknowledged without a log. An edit (message_changed)
 * of such a message updates its interaction.
 */
const HUMAN_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message'])

/**
 * Events API `event_callback` (api.slack.com/apis/events-api) -> message/mention/edit events.
 * Ids are `${channel}:${ts}`: ts is only unique within a channel, and the same message arriving as
 * both `message` and `app_mention` then dedupes to one interaction in the core.
 */
export function parseEventCallback (body: Loose, now: Date): InboundEvent[] {
  if (body?.type !== 'event_callback') return []
  const e = body.event
  // message_changed: `message` is the whole message as it now reads, with its original `ts`
  // (docs.slack.dev/reference/events/message/message_changed); `edited.ts` is when it was edited.
  if (e?.type === 'message' && e.subtype === 'message_changed') {
    const m = e.message
    if (!HUMAN_SUBTYPES.has(m?.subtype)) return []
    const message = said(m, str(e.channel), now)
    if (message === undefined) return []
    return [{ type: 'edit', ...message, interactionKind: 'message', editedAt: dateFrom(m.edited?.ts ?? e.ts ?? e.event_ts, 's', now) }]
  }
  const isMessage = e?.type === 'message' && HUMAN_SUBTYPES.has(e.subtype)
  if (!isMessage && e?.type !== 'app_mention') return []
  const message = said(e, str(e.channel), now)
  if (message === undefined) return []
  return [{ type: 'message', ...message, interactionKind: e.type === 'app_mention' ? 'mention' : 'message' }]
}

/** What a person said in a message object; undefined for bots (ours included) and id-less ones. */
function said (m: Loose, channel: string | undefined, now: Date) {
  // Our own bot's posts (and other bots') come back as events; they are not contact interactions.
  if (m?.bot_id !== undefined || m?.user === undefined) return undefined
  const ts = str(m.ts)
  if (channel === undefined || ts === undefined) return undefined
  const threadTs = str(m.thread_ts)
  return {
    providerMessageId: `${channel}:${ts}`,
    threadId: threadTs === undefined ? undefined : `${channel}:${threadTs}`,
    sender: { handle: String(m.user) },
    recipient: channel,
    text: str(m.text),
    attachments: arr(m.files).map((f: Loose) => ({
      name: str(f?.name),
      contentType: str(f?.mimetype),
      url: str(f?.url_private),
      size: num(f?.size),
      providerFileId: str(f?.id)
    })),
    sentAt: dateFrom(ts, 's', now),
    identityKind: 'slack:user'
  }
}
