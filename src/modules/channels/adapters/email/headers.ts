import { digest } from '../shared/crypto.js'

/**
 * Email ids are kept bare (no angle brackets): Mailgun events report them bare, and one form
 * makes an inbound In-Reply-To comparable with the providerMessageId an SMTP send returned.
 */
export function msgIds (header: string | undefined): string[] {
  if (header === undefined) return []
  const bracketed = [...header.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1])
  return bracketed.length > 0 ? bracketed : header.split(/\s+/).filter(Boolean)
}

/** Thread = root of the conversation: first References entry, else In-Reply-To, else the message itself. */
export function threadOf (h: { references?: string, inReplyTo?: string, messageId?: string }): string | undefined {
  return msgIds(h.references)[0] ?? msgIds(h.inReplyTo)[0] ?? msgIds(h.messageId)[0]
}

/** "Name <a@b>" | "a@b" -> parts. Addresses are lower-cased so identities match across providers. */
export function parseAddress (value: string | undefined): { email?: string, name?: string } {
  if (value === undefined) return {}
  const m = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value)
  const email = (m?.[2] ?? value).trim().toLowerCase()
  const name = m?.[1]?.replace(/^"(.*)"$/, '$1').trim()
  return { email: email === '' ? undefined : email, name: name === '' ? undefined : name }
}

/**
 * Deterministic Message-ID from the idempotency key: a retried send carries the same id, so the
 * recipient's server and our own inbound threading recognize it as the same message.
 */
export function messageIdFor (idempotencyKey: string, from: string): string {
  const domain = parseAddress(from).email?.split('@')[1] ?? 'rapport.invalid'
  return `${digest(idempotencyKey)}@${domain}`
}

/** In-Reply-To / References for a reply, bracketed for the wire. */
export function replyHeaders (threadId?: string, inReplyTo?: string): { inReplyTo?: string, references?: string } {
  const bare = (id?: string): string | undefined => id?.replace(/^<|>$/g, '')
  const parent = bare(inReplyTo ?? threadId)
  if (parent === undefined) return {}
  const refs = [...new Set([bare(threadId), parent].filter((x): x is string => x !== undefined))]
  return { inReplyTo: `<${parent}>`, references: refs.map((r) => `<${r}>`).join(' ') }
}
