import type { Db, Tx } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { RequestContext } from '../../lib/context.js'
import { DomainError, notFound } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import type { ContactsService } from '../contacts/contacts.service.js'
import { isUniqueViolation } from '../contacts/contacts.duplicates.js'
import * as repo from './identities.repository.js'
import { normalizeAddress, normalizeInboundAddress } from './identities.rules.js'
import type { IdentityCreateInput, IdentityDto } from './identities.schemas.js'
import { groupedInKeyOrder } from '../../lib/key-order.js'

export function toIdentityDto (r: repo.IdentityRow): IdentityDto {
  return {
    id: r.id,
    contactId: r.contactId,
    kind: r.kind,
    address: r.address,
    firstSeenAt: r.firstSeenAt?.toISOString() ?? null,
    lastSeenAt: r.lastSeenAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString()
  }
}

export interface SeenSender { kind: string, address: string, name?: string, seenAt: Date }

export function createIdentitiesService ({ db, contacts }: { db: Db, contacts: ContactsService }) {
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>, tx?: Tx) => inWorkspace(db, ctx.workspaceId, fn, tx)

  return {
    async list (ctx: RequestContext, contactId: string, tx?: Tx): Promise<IdentityDto[]> {
      return ws(ctx, async (t) => {
        const id = await contacts.resolveId(ctx, contactId, t)
        return (await repo.listIdentities(t, ctx.workspaceId, [id])).map(toIdentityDto)
      }, tx)
    },

    /** For loaders: identities of many contacts, grouped in the order of `contactIds`. */
    async listMany (ctx: RequestContext, contactIds: string[]): Promise<IdentityDto[][]> {
      const rows = await ws(ctx, (t) => repo.listIdentities(t, ctx.workspaceId, contactIds))
      return groupedInKeyOrder(contactIds, rows, (r) => r.contactId).map((group) => group.map(toIdentityDto))
    },

    async add (ctx: RequestContext, contactId: string, input: IdentityCreateInput): Promise<IdentityDto> {
      const address = normalizeAddress(input.kind, input.address)
      try {
        return await ws(ctx, async (t) => {
          const id = await contacts.resolveId(ctx, contactId, t)
          const existing = await repo.findIdentity(t, ctx.workspaceId, input.kind, address)
          if (existing) throw duplicate(existing)
          return toIdentityDto(await repo.insertIdentity(t, { workspaceId: ctx.workspaceId, id: newId('identity'), contactId: id, kind: input.kind, address }))
        })
      } catch (err) {
        if (!isUniqueViolation(err)) throw err
        const existing = await ws(ctx, (t) => repo.findIdentity(t, ctx.workspaceId, input.kind, address))
        throw existing ? duplicate(existing) : err
      }
    },

    async remove (ctx: RequestContext, contactId: string, identityId: string): Promise<void> {
      await ws(ctx, async (t) => {
        const id = await contacts.resolveId(ctx, contactId, t)
        if (!await repo.deleteIdentity(t, ctx.workspaceId, id, identityId)) throw notFound('identity.not_found', identityId)
      })
    },

    /**
     * The contact an inbound sender belongs to: its identity if known; else a contact whose
     * e-mail or phone matches (the identity is then attached); else a new contact made from it.
     */
    async resolveSender (tx: Tx, ctx: Pick<RequestContext, 'workspaceId' | 'actor'>, sender: SeenSender): Promise<string> {
      const address = normalizeInboundAddress(sender.kind, sender.address)
      const known = await repo.findIdentity(tx, ctx.workspaceId, sender.kind, address)
      const owner = known ? await contacts.resolveIdIn(tx, ctx.workspaceId, known.contactId) : undefined
      if (known && owner) {
        await repo.touchIdentity(tx, ctx.workspaceId, known.id, sender.seenAt)
        return owner
      }
      // Unknown, or known only to a deleted contact: the message must still land on a live contact.
      const matchKind = sender.kind === 'email' || sender.kind === 'phone' ? sender.kind : undefined
      const matched = matchKind ? await contacts.findByAddress(tx, ctx.workspaceId, matchKind, address) : undefined
      const contactId = matched ?? await contacts.createFromSender(tx, ctx, { kind: sender.kind, address, name: sender.name })
      if (known) {
        await repo.moveIdentities(tx, ctx.workspaceId, known.contactId, contactId, [known.id])
        await repo.touchIdentity(tx, ctx.workspaceId, known.id, sender.seenAt)
        return contactId
      }
      await repo.insertIdentity(tx, {
        workspaceId: ctx.workspaceId, id: newId('identity'), contactId, kind: sender.kind, address, firstSeenAt: sender.seenAt, lastSeenAt: sender.seenAt
      })
      return contactId
    },

    /** The address to reach a contact at, for an adapter that sends to `kind` handles. */
    async addressFor (tx: Tx, workspaceId: string, contactId: string, kinds: string[]): Promise<string | undefined> {
      const rows = await repo.listIdentities(tx, workspaceId, [contactId])
      for (const kind of kinds) {
        const hit = rows.filter((r) => r.kind === kind).sort((a, b) => (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0))[0]
        if (hit) return hit.address
      }
      return undefined
    },

    moveAll: repo.moveIdentities
  }
}

function duplicate (existing: repo.IdentityRow) {
  return new DomainError('identity.duplicate', `${existing.kind} ${existing.address} already belongs to a contact`, { existingContactId: existing.contactId, identityId: existing.id })
}

export type IdentitiesService = ReturnType<typeof createIdentitiesService>
