import { z } from 'zod'

export const telegramConfig = z.object({
  /** From @BotFather, e.g. 123456:ABC-DEF... */
  botToken: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-DEF...'),
  /** The secret_token passed to setWebhook; Telegram echoes it in X-Telegram-Bot-Api-Secret-Token. */
  secretToken: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, '1-256 characters A-Z a-z 0-9 _ -'),
  apiBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api.telegram.org')
}).strict()

export type TelegramConfig = z.infer<typeof telegramConfig>
