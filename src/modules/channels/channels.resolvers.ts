import type { IResolvers } from 'mercurius'
import { toConnection } from '../../graphql/connection.js'
import { enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../plugins/auth.js'
import { ChannelCreate, ChannelListQuery, ChannelPatch } from './channels.schemas.js'

export const channelsResolvers: IResolvers = {
  Query: {
    channelKinds: async (_root, _args, { ctx, services }) => {
      requireScope(ctx, 'channels:read')
      return services.channels.kinds()
    },
    channel: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'channels:read')
      return services.channels.get(ctx, id)
    },
    channels: async (_root, { first, after, filter }, { ctx, services }) => {
      requireScope(ctx, 'channels:read')
      const query = parseInput(ChannelListQuery, { limit: first, after: after ?? undefined, ...enumsIn(withoutNulls(filter), ['status']) }, { limit: 'first' })
      return toConnection(await services.channels.list(ctx, query), Boolean(after))
    }
  },
  Mutation: {
    createChannel: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'channels:write')
      return { channel: await services.channels.create(ctx, parseInput(ChannelCreate, enumsIn(withoutNulls(input), ['status']))) }
    },
    updateChannel: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'channels:write')
      const { id, ...patch } = input
      return { channel: await services.channels.update(ctx, id, parseInput(ChannelPatch, enumsIn(withoutNulls(patch), ['status']))) }
    },
    deleteChannel: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'channels:write')
      await services.channels.remove(ctx, input.id)
      return { deletedChannelId: input.id }
    }
  },
  Channel: {
    status: (channel) => enumOut(channel.status)
  }
}
