import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { z } from 'zod'

const text = (max: number) => z.string().trim().min(1).max(max)

export const Email = z.email({ message: 'Must be an e-mail address' }).max(254).transform((v) => v.toLowerCase())

// E.164 normalization with libphonenumber's full metadata, so "+1 (415) 555-2671" and
// "+14155552671" are one number. Numbers must be international (start with +).
export const Phone = z.string().max(40).transform((value, ctx) => {
  const parsed = parsePhoneNumberFromString(value)
  if (!parsed || !parsed.isValid()) {
    ctx.addIssue({ code: 'custom', message: 'Must be a valid international phone number, e.g. +14155552671' })
    return z.NEVER
  }
  return parsed.number as string
}).meta({ description: 'International phone number; stored in E.164', example: '+14155552671' })

export const EmailInput = z.union([
  Email,
  z.object({ address: Email, primary: z.boolean().optional() }).strict()
], { error: 'Must be an e-mail address, or { "address": ..., "primary": true|false }' }).meta({ id: 'EmailAddress', description: 'An address, or an address with its primary flag' })

const Tag = z.string().trim().min(1).max(64)
// Any JSON value, with strings and arrays bounded like every other input (z.json() bounds neither).
const JsonValue: z.ZodType<unknown> = z.lazy(() => z.union([
  z.string().max(10_000), z.number(), z.boolean(), z.null(), z.array(JsonValue).max(1000), z.record(z.string().max(100), JsonValue)
]))
const Attributes = z.record(z.string().min(1).max(100), JsonValue)
  .refine((v) => Object.keys(v).length <= 100, 'At most 100 attributes')
  .meta({ description: 'Custom attributes: any JSON values' })

const contactFields = {
  displayName: text(200),
  givenName: text(100).nullable(),
  familyName: text(100).nullable(),
  emails: z.array(EmailInput).max(20).nullable(),
  phones: z.array(Phone).max(20).nullable(),
  company: text(200).nullable(),
  title: text(200).nullable(),
  tags: z.array(Tag).max(50).nullable(),
  attributes: Attributes.nullable(),
  externalId: text(200).nullable()
}

export const ContactCreate = z.object({
  ...contactFields,
  displayName: contactFields.displayName.optional(),
  givenName: contactFields.givenName.optional(),
  familyName: contactFields.familyName.optional(),
  emails: contactFields.emails.optional(),
  phones: contactFields.phones.optional(),
  company: contactFields.company.optional(),
  title: contactFields.title.optional(),
  tags: contactFields.tags.optional(),
  attributes: contactFields.attributes.optional(),
  externalId: contactFields.externalId.optional()
}).strict().meta({ id: 'ContactCreate' })

/** JSON merge patch (RFC 7396): absent = unchanged, null = removed, attributes merge key by key. */
export const ContactPatch = ContactCreate.meta({ id: 'ContactPatch' })

export type ContactCreateInput = z.output<typeof ContactCreate>
export type ContactPatchInput = z.output<typeof ContactPatch>

export const Contact = z.object({
  id: z.string().meta({ example: 'con_01h455vb4pex5vsknk084sn02q' }),
  displayName: z.string(),
  givenName: z.string().nullable(),
  familyName: z.string().nullable(),
  emails: z.array(z.object({ address: z.string(), primary: z.boolean() })),
  phones: z.array(z.string()),
  company: z.string().nullable(),
  title: z.string().nullable(),
  tags: z.array(z.string()),
  attributes: z.record(z.string(), z.unknown()),
  externalId: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int()
}).meta({ id: 'Contact' })
export type ContactDto = z.output<typeof Contact>

export const ContactListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  tag: Tag.optional(),
  email: Email.optional(),
  externalId: text(200).optional(),
  updatedSince: z.iso.datetime({ offset: true }).max(40).optional()
}).strict()
export type ContactListInput = z.output<typeof ContactListQuery>

export const ContactList = z.object({
  data: z.array(Contact),
  nextCursor: z.string().nullable()
}).meta({ id: 'ContactList' })

export const ContactIdParams = z.object({ id: z.string().min(1).max(100) })

export const ContactBatch = z.object({
  upsertOn: z.enum(['externalId', 'email', 'phone']).meta({ description: 'The key that finds an existing contact (email: the first e-mail; phone: the first phone)' }),
  dryRun: z.boolean().optional(),
  records: z.array(z.record(z.string().max(100), z.unknown())).min(1).max(1000)
    .meta({ description: 'Up to 1,000 records shaped as ContactCreate; each is validated on its own' })
}).strict().meta({ id: 'ContactBatch' })

export const UpsertItemResult = z.object({
  index: z.number().int(),
  result: z.enum(['created', 'updated', 'unchanged', 'error']),
  id: z.string().optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  errors: z.array(z.object({ pointer: z.string(), message: z.string(), code: z.string().optional() })).optional()
}).meta({ id: 'UpsertItemResult' })

export const ContactBatchResult = z.object({
  summary: z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), failed: z.number().int() }),
  results: z.array(UpsertItemResult)
}).meta({ id: 'ContactBatchResult' })
