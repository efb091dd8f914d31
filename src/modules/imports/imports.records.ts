import { createHash } from 'node:crypto'
import { stringify } from 'safe-stable-stringify'
import { z } from 'zod'
import { Email } from '../contacts/contacts.schemas.js'
import { InteractionLog } from '../interactions/interactions.schemas.js'
import { PromiseCreate } from '../promises/promises.schemas.js'

// Import rows of interactions and promises: the single-record API's schema (InteractionLog,
// PromiseCreate) with the contact named by id, externalId or e-mail, plus the row's own key.

const text = (max: number) => z.string().trim().min(1).max(max)

const contactRef = {
  contactId: text(100).optional(),
  contactExternalId: text(200).optional(),
  contactEmail: Email.optional(),
  /** The record's id in the system it comes from: re-running the file finds it by this. */
  externalId: text(200).optional()
}

const oneContact = (v: { contactId?: string, contactExternalId?: string, contactEmail?: string }) =>
  [v.contactId, v.contactExternalId, v.contactEmail].filter((x) => x !== undefined).length === 1
const oneContactIssue = { message: 'Name the contact with exactly one of contactId, contactExternalId, contactEmail', path: ['contactId'] }

export const InteractionImportRow = InteractionLog.omit({ contactId: true }).extend(contactRef).strict().refine(oneContact, oneContactIssue)
export type InteractionImportInput = z.output<typeof InteractionImportRow>

/**
 * Promises may arrive with the verdict they already have elsewhere: created open, then taken
 * through the promise service's own transitions (keep, break, cancel), as if done through the API.
 */
export const promiseVerdicts = ['open', 'kept', 'broken', 'cancelled'] as const
export const PromiseImportRow = PromiseCreate.omit({ contactId: true }).extend({
  ...contactRef,
  status: z.enum(promiseVerdicts).optional(),
  keptAt: z.iso.datetime({ offset: true }).optional(),
  reason: text(2000).optional()
}).strict().refine(oneContact, oneContactIssue)
  .refine((v) => v.keptAt === undefined || v.status === 'kept', { message: 'keptAt goes with status kept', path: ['keptAt'] })
export type PromiseImportInput = z.output<typeof PromiseImportRow>

const hash = (value: unknown) => createHash('sha256').update(stringify(value) ?? '').digest('base64url').slice(0, 32)

/**
 * The natural key and content hash of a validated row. With an externalId the key is that id (an
 * edited row is the same record); without, the key is the content itself (the same row again is
 * unchanged, an edited row is a new record). Promises hash their terms apart from their verdict,
 * so a re-import that only moves the status is a transition, not a different promise.
 */
export function naturalKey (input: Record<string, unknown>): { key: string, hash: string } {
  const { status, keptAt, reason, ...terms } = input
  const verdict = { status: status ?? 'open', keptAt, reason }
  const termsHash = hash(terms)
  const content = `${termsHash}.${hash(verdict)}`
  return { key: typeof input.externalId === 'string' ? `x:${input.externalId}` : `h:${termsHash}`, hash: content }
}

export const termsOf = (contentHash: string) => contentHash.split('.')[0]
