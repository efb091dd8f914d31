import { z } from 'zod'
import type { InboundEvent } from '../channel-adapter.js'
import { AdapterParseError } from '../channel-adapter.js'

/**
 * Rapport's generic webhook format (our own, so it is validated strictly), signed per
 * Standard Webhooks (headers webhook-id, webhook-timestamp, webhook-signature):
 *
 *   {"type": "message.received", "timestamp": "2024-05-29T18:15:00Z",
 *    "data": {"id": "ext-123", "from": "user-42", "fromName": "Ada", "identityKind": "acme:user",
 *             "kind": "message", "to": "support", "subject": "Hi", "text": "Hello",
 *             "threadId": "ext-100", "attachments": [{"name": "a.pdf", "contentType": "application/pdf",
 *             "url": "https://...", "size": 1234}]}}
 *   {"type": "message.status", "timestamp": "...", "data": {"id": "<id we sent>", "status": "delivered", "error": "..."}}
 *
 * Only data.id and data.from (received) / data.id and data.status (status) are required.
 * Outbound we POST {"type": "message.sent", "timestamp", "data": {id, to, subject, text, threadId, inReplyTo}}.
 * Any other type is accepted and ignored, so senders can share one endpoint for other events.
 */
const opt = z.string().min(1).optional()
const timestamp = z.iso.datetime({ offset: true })

const received = z.object({
  type: z.literal('message.received'),
  timestamp,
  data: z.object({
    id: z.string().min(1),
    from: z.string().min(1),
    fromName: opt,
    identityKind: z.string().min(1).default('external'),
    kind: z.enum(['email', 'sms', 'message', 'post', 'mention']).default('message'),
    to: opt,
    subject: opt,
    text: z.string().optional(),
    threadId: opt,
    attachments: z.array(z.object({ name: opt, contentType: opt, url: z.url().optional(), size: z.number().int().min(0).optional() })).default([])
  })
})

const status = z.object({
  type: z.literal('message.status'),
  timestamp,
  data: z.object({ id: z.string().min(1), status: z.enum(['queued', 'sent', 'delivered', 'read', 'failed']), error: opt })
})

export function parseWebhookPayload (body: unknown): InboundEvent[] {
  const type = (body as { type?: unknown } | null)?.type
  if (type !== 'message.received' && type !== 'message.status') return []
  const result = type === 'message.received' ? received.safeParse(body) : status.safeParse(body)
  if (!result.success) throw new AdapterParseError(`invalid ${type} payload: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`)
  const p = result.data
  if (p.type === 'message.status') {
    return [{ type: 'status', providerMessageId: p.data.id, status: p.data.status, occurredAt: new Date(p.timestamp), ...(p.data.error ? { error: p.data.error } : {}) }]
  }
  const d = p.data
  return [{
    type: 'message',
    providerMessageId: d.id,
    threadId: d.threadId,
    sender: { handle: d.from, name: d.fromName },
    recipient: d.to,
    subject: d.subject,
    text: d.text,
    attachments: d.attachments,
    sentAt: new Date(p.timestamp),
    interactionKind: d.kind,
    identityKind: d.identityKind
  }]
}
