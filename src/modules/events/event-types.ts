// Every event type the log holds, `<resource>.<what happened>`: webhooks and the feed filter on them.
export const eventTypes = [
  'contact.created', 'contact.updated', 'contact.deleted', 'contact.merged',
  'interaction.received', 'interaction.created', 'interaction.updated', 'interaction.status_changed',
  'promise.made', 'promise.at_risk', 'promise.renegotiated', 'promise.kept', 'promise.broken', 'promise.cancelled',
  'channel.created', 'channel.updated', 'channel.deleted'
] as const
export type EventType = (typeof eventTypes)[number]

/** The scope a reader needs to see an event: the scope that reads its subject over REST. */
export const readScopeOf = (type: string): string => `${type.slice(0, type.indexOf('.'))}s:read`
