import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

// Standard Webhooks: the secret is `whsec_` + base64 of random bytes (24-64 bytes per the spec).
export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`

/**
 * The three Standard Webhooks headers for one attempt: the id stays the event id on every
 * attempt (receivers deduplicate on it), the timestamp is the time of this attempt, and the
 * signature is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, made by the reference package,
 * once per secret and space-separated (the spec's zero-downtime rotation: a receiver that still
 * holds the previous secret finds its signature in the list). The current secret comes first.
 */
export function signedHeaders (secrets: readonly string[], id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' ')
  }
}
