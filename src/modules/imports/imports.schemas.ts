import { z } from 'zod'
import { importStatuses, importTypes } from './imports.table.js'

const Mapping = z.string().max(10_000).transform((value, ctx) => {
  try {
    const parsed = JSON.parse(value)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'string')) return parsed as Record<string, string>
  } catch {}
  ctx.addIssue({ code: 'custom', message: 'Must be a JSON object of column name to field name, e.g. {"E-mail":"email"}' })
  return z.NEVER
})

export const ImportQuery = z.object({
  type: z.enum(importTypes).default('contacts').meta({ description: 'interactions and promises name their contact by contactId, contactExternalId or contactEmail' }),
  format: z.enum(['csv', 'ndjson']).optional().meta({ description: 'Default: from the content type' }),
  upsertOn: z.enum(['externalId', 'email', 'phone']).optional()
    .meta({ description: 'contacts: the key that finds an existing contact (default email). interactions, promises: externalId only (each row\'s externalId, else its content, is its key)' }),
  dryRun: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  delimiter: z.string().length(1).optional().meta({ description: 'CSV delimiter (default ,)' }),
  mapping: Mapping.optional().meta({ description: 'JSON object renaming CSV columns to fields, e.g. {"E-mail":"email"}' })
}).strict()

export interface ImportParams {
  type: (typeof importTypes)[number]
  format: 'csv' | 'ndjson'
  upsertOn: 'externalId' | 'email' | 'phone'
  dryRun: boolean
  delimiter?: string
  mapping: Record<string, string>
}

export const ImportJob = z.object({
  id: z.string(),
  type: z.enum(importTypes),
  format: z.enum(['csv', 'ndjson']),
  upsertOn: z.enum(['externalId', 'email', 'phone']),
  dryRun: z.boolean(),
  status: z.enum(importStatuses),
  error: z.string().nullable(),
  counts: z.object({
    rowsRead: z.number().int(), processed: z.number().int(), created: z.number().int(),
    updated: z.number().int(), unchanged: z.number().int(), failed: z.number().int()
  }),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  durationSeconds: z.number().nullable(),
  rowsPerSecond: z.number().nullable(),
  errorsUrl: z.string()
}).meta({ id: 'ImportJob' })
export type ImportJobDto = z.output<typeof ImportJob>

export const ImportError = z.object({ line: z.number().int(), field: z.string(), reason: z.string() }).meta({ id: 'ImportRowError' })
export const ImportErrorsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  after: z.string().min(1).max(500).optional(),
  format: z.enum(['json', 'csv']).optional().meta({ description: 'csv: a file ready to fix (also with Accept: text/csv)' })
}).strict()
export const ImportIdParams = z.object({ id: z.string().min(1).max(100) })
