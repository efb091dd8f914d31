import { z } from 'zod'

const opt = z.string().min(1).optional()

/**
 * One email channel = one inbound route (Postmark inbound stream or Mailgun route) and/or one
 * outbound transport (SMTP or Postmark's HTTP API). Keys are flat so secretFields can name them.
 */
export const emailConfig = z.object({
  inboundFormat: z.enum(['postmark', 'mailgun']).optional(),
  /** Postmark signs nothing: put these in the webhook URL (https://user:pass@host/...). */
  basicAuthUser: opt,
  basicAuthPassword: opt,
  /** Mailgun: Settings -> API security -> HTTP webhook signing key. */
  mailgunSigningKey: opt,

  transport: z.enum(['smtp', 'postmark']).optional(),
  /** Sender, e.g. "Acme Support <support@acme.example>". */
  from: opt,
  smtpHost: opt,
  smtpPort: z.number().int().min(1).max(65535).default(587),
  /** true = TLS from the first byte (port 465); false = STARTTLS when offered. */
  smtpSecure: z.boolean().default(false),
  smtpUser: opt,
  smtpPass: opt,
  postmarkServerToken: opt,
  postmarkMessageStream: z.string().min(1).default('outbound'),
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api.postmarkapp.com')
}).strict().superRefine((c, ctx) => {
  const need = (key: keyof typeof c, why: string): void => {
    if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required ${why}` })
  }
  if (c.inboundFormat === 'postmark') { need('basicAuthUser', 'for Postmark inbound'); need('basicAuthPassword', 'for Postmark inbound') }
  if (c.inboundFormat === 'mailgun') need('mailgunSigningKey', 'for Mailgun inbound')
  if (c.transport !== undefined) need('from', 'to send')
  if (c.transport === 'smtp') need('smtpHost', 'for SMTP')
  if (c.transport === 'postmark') need('postmarkServerToken', 'for Postmark sending')
})

export type EmailConfig = z.infer<typeof emailConfig>
