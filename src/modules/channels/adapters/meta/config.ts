import { z } from 'zod'

export const metaConfig = z.object({
  /** App Dashboard -> App settings -> Basic -> App Secret: signs every webhook POST. */
  appSecret: z.string().min(1),
  /** Any string you choose; type the same value into the webhook setup in the App Dashboard. */
  verifyToken: z.string().min(1),
  /** Which Graph API product outbound messages go through. Inbound accepts all three. */
  platform: z.enum(['messenger', 'instagram', 'whatsapp']),
  /** Page access token (Messenger/Instagram) or system-user token (WhatsApp). */
  accessToken: z.string().min(1).optional(),
  /** WhatsApp Cloud API sender: the business phone number's id (not the number itself). */
  phoneNumberId: z.string().regex(/^\d+$/).optional(),
  apiVersion: z.string().regex(/^v\d+\.\d+$/).default('v21.0'),
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://graph.facebook.com')
}).strict().superRefine((c, ctx) => {
  if (c.platform === 'whatsapp' && c.accessToken !== undefined && c.phoneNumberId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['phoneNumberId'], message: 'required to send WhatsApp messages' })
  }
})

export type MetaConfig = z.infer<typeof metaConfig>
