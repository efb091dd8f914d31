import { z } from 'zod'

export const smsConfig = z.object({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hex characters'),
  /** Signs inbound webhooks (X-Twilio-Signature) and authenticates API calls. */
  authToken: z.string().min(1),
  /** Sender: an E.164 number we own, or a Messaging Service (one of the two is required to send). */
  from: z.string().regex(/^\+\d{6,15}$/, 'must be E.164, e.g. +15557122661').optional(),
  messagingServiceSid: z.string().regex(/^MG[0-9a-fA-F]{32}$/).optional(),
  /** Public URL Twilio should post delivery status callbacks to, normally this channel's inbound URL. */
  statusCallbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com')
}).strict()

export type SmsConfig = z.infer<typeof smsConfig>
