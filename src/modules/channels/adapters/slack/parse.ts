import type { InboundEvent } from '../channel-adapter.js'
import { arr, dateFrom, num, str, type Loose } from '../shared/request.js'

/**
 * Message subtypes that are a person saying something (`/me` included); edits (message_changed),
 * deletions, joins, topic changes, bot posts etc. are not, and are acknowledged without a log.
 */
const HUMAN_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message'])

/**
 * Events API `event_callback` (api.slack.com/apis/events-api) -> message/mention events.
 * Ids are `${channel}:${ts}`: ts is only unique within a channel, and the same message arriving as
 * both `message` and `app_mention` then dedupes to one interaction in the core.
 */
export function parseEventCallback (body: Loose, now: Date): InboundEvent[] {
  if (body?.type !== 'event_callback') return []
  const e = body.event
  const isMessage = e?.type === 'message' && HUMAN_SUBTYPES.has(e.subtype)
  if (!isMessage && e?.type !== 'app_mention') return []
  // Our own bot's posts (and other bots') come back as events; they are not contact interactions.
  if (e.bot_id !== undefined || e.user === undefined) return []
  const channel = str(e.channel)
  const ts = str(e.ts)
  if (channel === undefined || ts === undefined) return []
  const threadTs = str(e.thread_ts)
  return [{
    type: 'message',
    providerMessageId: `${channel}:${ts}`,
    threadId: threadTs === undefined ? undefined : `${channel}:${threadTs}`,
    sender: { handle: String(e.user) },
    recipient: channel,
    text: str(e.text),
    attachments: arr(e.files).map((f: Loose) => ({
      name: str(f?.name),
      contentType: str(f?.mimetype),
      url: str(f?.url_private),
      size: num(f?.size),
      providerFileId: str(f?.id)
    })),
    sentAt: dateFrom(ts, 's', now),
    interactionKind: e.type === 'app_mention' ? 'mention' : 'message',
    identityKind: 'slack:user'
  }]
}
