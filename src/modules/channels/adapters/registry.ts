import type { ChannelAdapter } from './channel-adapter.js'
import { emailAdapter } from './email/index.js'
import { mailAdapter, meetingAdapter, noteAdapter, phoneAdapter } from './manual/index.js'
import { metaAdapter } from './meta/index.js'
import { slackAdapter } from './slack/index.js'
import { smsAdapter } from './sms/index.js'
import { telegramAdapter } from './telegram/index.js'
import { webhookAdapter } from './webhook/index.js'
import { xAdapter } from './x/index.js'

/** Every adapter by kind. Adding a provider = one folder under adapters/ + one line here. */
export const adapters = new Map<string, ChannelAdapter>([
  emailAdapter,
  smsAdapter,
  metaAdapter,
  xAdapter,
  slackAdapter,
  telegramAdapter,
  webhookAdapter,
  phoneAdapter,
  meetingAdapter,
  mailAdapter,
  noteAdapter
].map((a): [string, ChannelAdapter] => [a.kind, a]))

export function getAdapter (kind: string): ChannelAdapter | undefined {
  return adapters.get(kind)
}

export function listAdapters (): ChannelAdapter[] {
  return [...adapters.values()]
}
