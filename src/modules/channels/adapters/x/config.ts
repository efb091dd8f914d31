import { z } from 'zod'

export const xConfig = z.object({
  /** App consumer secret (API secret): signs CRC responses and webhook bodies. */
  consumerSecret: z.string().min(1),
  /** OAuth 2.0 user-context access token of the account we send DMs as (dm.write scope). */
  accessToken: z.string().min(1).optional(),
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api.x.com')
}).strict()

export type XConfig = z.infer<typeof xConfig>
