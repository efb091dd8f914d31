import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { orderIn, pageRequest, toConnection } from '../../graphql/connection.js'
import { enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../lib/context.js'
import { ChannelCreate, ChannelListQuery, ChannelPatch } from './channels.schemas.js'

export const channelsResolvers: Resolvers = {
  Query: {
    channelKinds: async (_root, _args, { ctx, services }) => {
      requireScope(ctx, 'channels:read')
      return services.channels.kinds()
    },
    channel: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'channels:read')
      return services.channels.get(ctx, id)
    },
    channels: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'channels:read')
      const page = pageRequest(args)
      const filter = parseInput(ChannelListQuery, enumsIn(withoutNulls(args.filter), ['status']))
      return toConnection(await services.channels.list(ctx, { ...filter, ...page, ...orderIn(args.orderBy) }), () => services.channels.count(ctx, filter))
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
