import { z } from 'zod'
import type { ChannelAdapter } from '../channel-adapter.js'

const noConfig = z.object({}).strict()

/**
 * Channels for interactions that happen outside any API (a phone call, a meeting, a letter, a
 * note): they exist so interactions can be attributed to a channel, and are logged through the
 * REST/GraphQL API. No receive, no send.
 */
function manual (kind: string, description: string): ChannelAdapter<Record<string, never>> {
  return {
    kind,
    description,
    capabilities: { receive: false, send: false, deliveryReceipts: false, readReceipts: false, threads: false, attachments: false },
    config: noConfig,
    secretFields: []
  }
}

export const phoneAdapter = manual('phone', 'Phone calls, logged by hand')
export const meetingAdapter = manual('meeting', 'Meetings, logged by hand')
export const mailAdapter = manual('mail', 'Postal mail, logged by hand')
export const noteAdapter = manual('note', 'Free-form notes')
