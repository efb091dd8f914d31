import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { parse } from 'csv-parse'

export interface StagedRow { line: number, data: Record<string, unknown> | null, error?: string }

// CSV cells are strings; these columns hold lists, separated by ; or | (commas belong to CSV).
const listColumns = new Set(['emails', 'phones', 'tags'])
const singular: Record<string, string> = { email: 'emails', phone: 'phones', tag: 'tags' }

/** One CSV record as a contact-shaped object: lists split, attributes.x gathered, blanks absent. */
export function csvRecordToObject (record: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const attributes: Record<string, unknown> = {}
  for (const [column, raw] of Object.entries(record)) {
    const value = raw.trim()
    if (value === '' || column === '') continue
    if (column.startsWith('attributes.')) attributes[column.slice('attributes.'.length)] = value
    else if (listColumns.has(column)) out[column] = [...(out[column] as string[] ?? []), ...value.split(/[;|]/).map((v) => v.trim()).filter(Boolean)]
    else if (singular[column]) out[singular[column]] = [...(out[singular[column]] as string[] ?? []), value]
    else out[column] = value
  }
  if (Object.keys(attributes).length > 0) out.attributes = attributes
  return out
}

/** Streams CSV rows with their line numbers; header names pass through `mapping` first. */
export async function * csvRows (source: Readable, opts: { delimiter?: string, mapping: Record<string, string> }): AsyncGenerator<StagedRow> {
  const parser = source.pipe(parse({
    bom: true,
    columns: (header: string[]) => header.map((h) => opts.mapping[h.trim()] ?? h.trim()),
    delimiter: opts.delimiter ?? ',',
    relax_column_count: true,
    skip_empty_lines: true,
    info: true
  }))
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>, info: { lines: number } }>) {
    yield { line: info.lines, data: csvRecordToObject(record) }
  }
}

/** Streams NDJSON rows; a line that is not a JSON object is staged as a failed row. */
export async function * ndjsonRows (source: Readable): AsyncGenerator<StagedRow> {
  let line = 0
  for await (const text of createInterface({ input: source, crlfDelay: Infinity })) {
    line++
    if (text.trim() === '') continue
    try {
      const value = JSON.parse(text)
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object')
      yield { line, data: value }
    } catch {
      yield { line, data: null, error: 'The line is not a JSON object' }
    }
  }
}
