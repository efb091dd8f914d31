import { isViolation, type Db, type Tx } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { RequestContext } from '../../lib/context.js'
import { DomainError } from '../../lib/errors.js'
import * as repo from './contacts.repository.js'
import type { EmailEntry } from './contacts.table.js'

async function findDuplicate (tx: Tx, workspaceId: string, emails: string[], externalId: string | null, exceptId?: string) {
  const [owner] = await repo.findEmailOwners(tx, workspaceId, emails, exceptId)
  if (owner) return new DomainError('contact.duplicate', `Another contact already has the e-mail ${owner.email}`, { existingContactId: owner.contactId, field: 'email', value: owner.email })
  const other = externalId ? await repo.findByExternalId(tx, workspaceId, externalId, exceptId) : undefined
  if (other) return new DomainError('contact.duplicate', `Another contact already has the externalId ${externalId}`, { existingContactId: other.id, field: 'externalId', value: externalId })
  return undefined
}

/** Refuses a write that would give a second live contact an e-mail or externalId. */
export async function assertNoDuplicates (tx: Tx, workspaceId: string, emails: EmailEntry[], externalId: string | null, exceptId?: string) {
  const dup = await findDuplicate(tx, workspaceId, emails.map((e) => e.address), externalId, exceptId)
  if (dup) throw dup
}

/**
 * Two concurrent writers can both pass the check above; the unique index then stops the second.
 * Its transaction is aborted, so the owner is looked up in a fresh one to name it in the 409.
 */
export async function mapUniqueViolation<T> (db: Db, ctx: RequestContext, fn: () => Promise<T>, emails: EmailEntry[], externalId: string | null, exceptId?: string): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
    const dup = await inWorkspace(db, ctx.workspaceId, (t) => findDuplicate(t, ctx.workspaceId, emails.map((e) => e.address), externalId, exceptId))
    throw dup ?? new DomainError('contact.duplicate')
  }
}

export const isUniqueViolation = (err: unknown): boolean => isViolation(err, '23505')
