import { z } from 'zod'

export const slackConfig = z.object({
  /** App settings -> Basic Information -> Signing Secret. */
  signingSecret: z.string().min(1),
  /** Bot User OAuth Token (xoxb-...), needed only to send. */
  botToken: z.string().startsWith('xoxb-').optional(),
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://slack.com/api')
}).strict()

export type SlackConfig = z.infer<typeof slackConfig>
