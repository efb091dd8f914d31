import { z } from 'zod'

export const ChannelStatus = z.enum(['active', 'paused'])
const Capabilities = z.object({
  receive: z.boolean(), send: z.boolean(), deliveryReceipts: z.boolean(),
  readReceipts: z.boolean(), threads: z.boolean(), attachments: z.boolean()
}).meta({ id: 'ChannelCapabilities' })

export const ChannelKind = z.object({
  kind: z.string(),
  description: z.string(),
  capabilities: Capabilities,
  secretFields: z.array(z.string()),
  configSchema: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema of the channel config' })
}).meta({ id: 'ChannelKind' })

export const ChannelKindList = z.object({ data: z.array(ChannelKind) }).meta({ id: 'ChannelKindList' })

export const ChannelCreate = z.object({
  kind: z.string().min(1).max(40),
  name: z.string().trim().min(1).max(200),
  status: ChannelStatus.optional(),
  config: z.record(z.string().max(100), z.unknown()).default({})
}).strict().meta({ id: 'ChannelCreate' })
export type ChannelCreateInput = z.output<typeof ChannelCreate>

export const ChannelPatch = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  status: ChannelStatus.optional(),
  config: z.record(z.string().max(100), z.unknown()).optional()
    .meta({ description: 'Merge patch of the config: absent keys unchanged, null removes; secrets may be replaced, never read' })
}).strict().meta({ id: 'ChannelPatch' })
export type ChannelPatchInput = z.output<typeof ChannelPatch>

export const Channel = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  status: ChannelStatus,
  config: z.record(z.string(), z.unknown()).meta({ description: 'The config without its secret fields' }),
  secretsSet: z.array(z.string()).meta({ description: 'Which secret fields hold a value (the values are write-only)' }),
  inboundUrl: z.string().meta({ description: 'Path to give the provider as its webhook URL' }),
  capabilities: Capabilities,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int()
}).meta({ id: 'Channel' })
export type ChannelDto = z.output<typeof Channel>

export const ChannelList = z.object({ data: z.array(Channel), nextCursor: z.string().nullable() }).meta({ id: 'ChannelList' })
export const ChannelListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional(),
  kind: z.string().min(1).max(40).optional(),
  status: ChannelStatus.optional(),
  updatedSince: z.iso.datetime({ offset: true }).max(40).optional()
}).strict()
export type ChannelListInput = z.output<typeof ChannelListQuery>
export const ChannelIdParams = z.object({ id: z.string().min(1).max(100) })
