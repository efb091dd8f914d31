import { createInterface } from 'node:readline'
import { PassThrough, pipeline, type Duplex, type Readable } from 'node:stream'
import { parse } from 'csv-parse'

export interface StagedRow { line: number, data: Record<string, unknown> | null, error?: string }

// CSV cells are strings; these columns hold lists, separated by ; or | (commas belong to CSV).
// The singular names are the same lists (README: `email`/`emails`, `phone`/`phones`).
const listColumns: Record<string, string> = { emails: 'emails', email: 'emails', phones: 'phones', phone: 'phones', tags: 'tags', tag: 'tags' }

/** One CSV record as a contact-shaped object: lists split, attributes.x gathered, blanks absent. */
export function csvRecordToObject (record: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const attributes: Record<string, unknown> = {}
  for (const [column, raw] of Object.entries(record)) {
    const value = raw.trim()
    if (value === '' || column === '') continue
    if (column.startsWith('attributes.')) attributes[column.slice('attributes.'.length)] = value
    else if (listColumns[column]) out[listColumns[column]] = [...(out[listColumns[column]] as string[] ?? []), ...value.split(/[;|]/).map((v) => v.trim()).filter(Boolean)]
    else out[column] = value
  }
  if (Object.keys(attributes).length > 0) out.attributes = attributes
  return out
}

const lineBreaks = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0

/**
 * `source` piped into `into` so that the reading loop fails when the upload does: a bad gzip body
 * or a client gone mid-upload becomes an error there (`.pipe()` alone leaves the error uncaught,
 * which kills the process, or leaves the loop waiting forever).
 */
function guarded<T extends Duplex> (source: Readable, into: T): T {
  pipeline(source, into, () => {})
  return into
}

/**
 * Streams CSV rows with the physical line each starts on (counted from the raw text, so quoted
 * newlines, CRLF and skipped empty lines keep it right); header names pass through `mapping` first.
 */
export async function * csvRows (source: Readable, opts: { delimiter?: string, mapping: Record<string, string> }): AsyncGenerator<StagedRow> {
  const parser = guarded(source, parse({
    bom: true,
    delimiter: opts.delimiter ?? ',',
    relax_column_count: true,
    skip_empty_lines: true,
    raw: true
  }))
  let header: string[] | undefined
  let consumed = 0 // line breaks before the current record
  for await (const { record, raw } of parser as AsyncIterable<{ record: string[], raw: string }>) {
    const line = consumed + lineBreaks(/^[\r\n]*/.exec(raw)![0]) + 1
    consumed += lineBreaks(raw)
    if (!header) {
      header = record.map((h) => opts.mapping[h.trim()] ?? h.trim())
      continue
    }
    const cells: Record<string, string> = {}
    header.forEach((name, i) => { if (record[i] !== undefined) cells[name] = record[i] })
    yield { line, data: csvRecordToObject(cells) }
  }
}

/** Streams NDJSON rows; a line that is not a JSON object is staged as a failed row. */
export async function * ndjsonRows (source: Readable): AsyncGenerator<StagedRow> {
  let line = 0
  for await (const text of createInterface({ input: guarded(source, new PassThrough()), crlfDelay: Infinity })) {
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
