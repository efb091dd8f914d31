import { z } from 'zod'

export const webhookConfig = z.object({
  /** Standard Webhooks secret, `whsec_` + base64 of 24-64 random bytes; signs both directions. */
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'must be whsec_ followed by base64'),
  /** Where outbound messages are POSTed; omit for an inbound-only channel. */
  url: z.url({ protocol: /^https?$/ }).optional()
}).strict()

export type WebhookConfig = z.infer<typeof webhookConfig>
