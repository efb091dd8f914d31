import { z } from 'zod'
import type { Db, Tx } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, keysetRead, toDirectedPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { DomainError, notFound, validationError } from '../../lib/errors.js'
import { assertVersion } from '../../lib/etag.js'
import { newId } from '../../lib/ids.js'
import { inKeyOrder } from '../../lib/key-order.js'
import { mergePatch } from '../../lib/merge-patch.js'
import type { SecretBox } from '../../lib/secrets.js'
import type { Clock } from '../../lib/clock.js'
import { appendEvent } from '../events/events.log.js'
import { zodIssuesToFieldErrors } from '../../lib/validation.js'
import type { ChannelAdapter } from './adapters/channel-adapter.js'
import { getAdapter, listAdapters } from './adapters/registry.js'
import * as repo from './channels.repository.js'
import type { ChannelCreateInput, ChannelDto, ChannelListInput, ChannelPatchInput } from './channels.schemas.js'

export interface ChannelRuntime { channel: repo.ChannelRow, adapter: ChannelAdapter, config: Record<string, unknown> }

export function createChannelsService ({ db, secrets, clock }: { db: Db, secrets: SecretBox, clock: Clock }) {
  // channel.* events carry the public representation: secrets never reach the log.
  const record = async (tx: Tx, workspaceId: string, type: 'channel.created' | 'channel.updated' | 'channel.deleted', dto: ChannelDto) => {
    await appendEvent(tx, { workspaceId, type, subjectId: dto.id, data: dto, occurredAt: clock.now() })
    return dto
  }
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>, tx?: Tx) => inWorkspace(db, ctx.workspaceId, fn, tx)

  function adapterOf (kind: string): ChannelAdapter {
    const adapter = getAdapter(kind)
    if (!adapter) throw validationError([{ pointer: '/kind', message: `Unknown channel kind; see GET /v1/channel-kinds`, code: 'unknown_kind' }])
    return adapter
  }

  /** Validates a whole config with the adapter's schema and splits off its secret fields. */
  function splitConfig (adapter: ChannelAdapter, config: Record<string, unknown>) {
    const parsed = adapter.config.safeParse(config)
    if (!parsed.success) throw validationError(zodIssuesToFieldErrors(parsed.error.issues, '/config'))
    const full = parsed.data as Record<string, unknown>
    const plain: Record<string, unknown> = {}
    const secret: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(full)) (adapter.secretFields.includes(k) ? secret : plain)[k] = v
    return { plain, secret }
  }

  const fullConfig = (row: repo.ChannelRow) => ({ ...row.config, ...(row.secrets ? secrets.open<Record<string, unknown>>(row.secrets) : {}) })

  function toDto (row: repo.ChannelRow): ChannelDto {
    const adapter = getAdapter(row.kind)
    const secretValues = row.secrets ? secrets.open<Record<string, unknown>>(row.secrets) : {}
    return {
      id: row.id,
      kind: row.kind,
      name: row.name,
      status: row.status,
      config: row.config,
      secretsSet: Object.keys(secretValues).filter((k) => secretValues[k] !== undefined).sort(),
      inboundUrl: `/v1/channels/${row.id}/inbound`,
      capabilities: adapter?.capabilities ?? { receive: false, send: false, deliveryReceipts: false, readReceipts: false, threads: false, attachments: false },
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      version: row.version
    }
  }

  async function requireRow (tx: Tx, workspaceId: string, id: string) {
    const row = await repo.getChannel(tx, workspaceId, id)
    if (!row) throw notFound('channel.not_found', id)
    return row
  }

  return {
    kinds () {
      return listAdapters().map((a) => ({
        kind: a.kind,
        description: a.description,
        capabilities: a.capabilities,
        secretFields: a.secretFields,
        configSchema: z.toJSONSchema(a.config, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
      }))
    },

    async create (ctx: RequestContext, input: ChannelCreateInput, tx?: Tx): Promise<ChannelDto> {
      const adapter = adapterOf(input.kind)
      const { plain, secret } = splitConfig(adapter, input.config)
      return ws(ctx, async (t) => record(t, ctx.workspaceId, 'channel.created', toDto(await repo.insertChannel(t, {
        workspaceId: ctx.workspaceId,
        id: newId('channel'),
        kind: adapter.kind,
        name: input.name,
        status: input.status ?? 'active',
        config: plain,
        secrets: Object.keys(secret).length > 0 ? secrets.seal(secret) : null
      }))), tx)
    },

    async get (ctx: RequestContext, id: string, tx?: Tx): Promise<ChannelDto> {
      return ws(ctx, async (t) => toDto(await requireRow(t, ctx.workspaceId, id)), tx)
    },

    /** For loaders: channels in the order of `ids`, null where absent or where no id was given. */
    async getMany (ctx: RequestContext, ids: ReadonlyArray<string | null>): Promise<(ChannelDto | null)[]> {
      const rows = await ws(ctx, (t) => repo.getChannels(t, ctx.workspaceId, [...new Set(ids.filter((id) => id !== null))]))
      return inKeyOrder(ids, rows.map(toDto))
    },

    async list (ctx: RequestContext, q: ChannelListInput & PageRequest): Promise<Page<ChannelDto>> {
      const read = keysetRead(q, (c) => decodeCursor<{ id: string }>(c, ['id']).id)
      const rows = await ws(ctx, (t) => repo.listChannels(t, ctx.workspaceId, {
        ...channelFilter(q), beforeId: read.below, newerThanId: read.above, oldestFirst: read.lowFirst
      }, q.limit + 1))
      const page = toDirectedPage(rows, q, (r) => ({ id: r.id }))
      return { ...page, items: page.items.map(toDto) }
    },

    /** How many channels match a list's filters (GraphQL totalCount). */
    async count (ctx: RequestContext, q: Omit<ChannelListInput, 'limit'>): Promise<number> {
      return ws(ctx, (t) => repo.countChannels(t, ctx.workspaceId, channelFilter(q)))
    },

    async update (ctx: RequestContext, id: string, patch: ChannelPatchInput, tx?: Tx, opts: { expectedVersion?: number } = {}): Promise<ChannelDto> {
      return ws(ctx, async (t) => {
        const row = await requireRow(t, ctx.workspaceId, id)
        assertVersion(opts.expectedVersion, row.version)
        const fields: Parameters<typeof repo.updateChannel>[3] = { version: row.version + 1 }
        if (patch.name !== undefined) fields.name = patch.name
        if (patch.status !== undefined) fields.status = patch.status
        if (patch.config !== undefined) {
          const { plain, secret } = splitConfig(getAdapter(row.kind)!, mergePatch(fullConfig(row), patch.config) as Record<string, unknown>)
          fields.config = plain
          fields.secrets = Object.keys(secret).length > 0 ? secrets.seal(secret) : null
        }
        return record(t, ctx.workspaceId, 'channel.updated', toDto(await repo.updateChannel(t, ctx.workspaceId, id, fields)))
      }, tx)
    },

    async remove (ctx: RequestContext, id: string, opts: { expectedVersion?: number } = {}): Promise<void> {
      await ws(ctx, async (t) => {
        const row = await requireRow(t, ctx.workspaceId, id)
        assertVersion(opts.expectedVersion, row.version)
        if (!await repo.deleteChannel(t, ctx.workspaceId, id)) throw notFound('channel.not_found', id)
        await record(t, ctx.workspaceId, 'channel.deleted', toDto(row))
      })
    },

    /** The adapter and decrypted config of a channel, for the inbound and outbound paths. */
    async runtime (ctx: Pick<RequestContext, 'workspaceId'>, id: string, tx?: Tx): Promise<ChannelRuntime> {
      return ws(ctx, async (t) => {
        const channel = await requireRow(t, ctx.workspaceId, id)
        const adapter = getAdapter(channel.kind)
        if (!adapter) throw new DomainError('channel.not_found', `Channel ${id} has an adapter kind this server does not know`)
        return { channel, adapter, config: fullConfig(channel) }
      }, tx)
    },

    /** Which workspace a provider webhook URL belongs to; undefined for an unknown channel. */
    async inboundWorkspace (channelId: string): Promise<string | undefined> {
      return repo.findInboundRoute(db, channelId)
    }
  }
}

export type ChannelsService = ReturnType<typeof createChannelsService>

function channelFilter (q: Omit<ChannelListInput, 'limit'>): repo.ChannelFilter {
  return { kind: q.kind, status: q.status, updatedSince: q.updatedSince ? new Date(q.updatedSince) : undefined }
}
