import { createInterface } from 'node:readline'
import { finished, PassThrough, type Duplex, type Readable } from 'node:stream'
import { parse } from 'csv-parse'

/** `bytes`: the row's size as uploaded, which bounds a batch in bytes (a few long rows weigh as much as thousands). */
export interface StagedRow { line: number, data: Record<string, unknown> | null, bytes: number, error?: string, field?: string }

// Text PostgreSQL cannot store (jsonb refuses NUL and unpaired surrogates, in values and keys):
// such a row is staged as failed, so one bad byte never fails the whole upload.
const unstorableText = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const UNSTORABLE = 'Must not contain NUL characters or unpaired surrogates'
// Deeper values are refused per row: validators and PostgreSQL's jsonb parser recurse, and a
// line nested thousands deep would otherwise end the upload (or the batch) in a stack overflow.
export const MAX_DEPTH = 32
const TOO_DEEP = `Must not nest objects or arrays more than ${MAX_DEPTH} levels deep`

/** The first unstorable string or key in `value`, or a value nested too deep, or undefined (no recursion). */
function unstorableField (value: unknown): { field: string, reason: string } | undefined {
  const stack: Array<[unknown, string, number]> = [[value, '', 0]]
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!
    if (typeof v === 'string') {
      if (unstorableText.test(v)) return { field: path, reason: UNSTORABLE }
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) return { field: path.split('.').slice(0, 3).join('.'), reason: TOO_DEEP }
      for (const [k, child] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k
        if (unstorableText.test(k)) return { field: at.replace(new RegExp(unstorableText.source, 'g'), '\ufffd'), reason: UNSTORABLE } // the report must store it
        stack.push([child, at, depth + 1])
      }
    }
  }
  return undefined
}

const checked = (line: number, data: Record<string, unknown>, bytes: number): StagedRow => {
  const bad = unstorableField(data)
  return bad === undefined ? { line, data, bytes } : { line, data: null, bytes, error: bad.reason, field: bad.field }
}

// CSV cells are strings; these columns hold lists, separated by ; or | (commas belong to CSV).
// The singular names are the same lists (README: `email`/`emails`, `phone`/`phones`).
const contactLists: Record<string, string> = { emails: 'emails', email: 'emails', phones: 'phones', phone: 'phones', tags: 'tags', tag: 'tags' }
export type RecordType = 'contacts' | 'interactions' | 'promises'
const listColumnsOf: Record<RecordType, Record<string, string>> = {
  contacts: contactLists,
  interactions: { keepsPromiseIds: 'keepsPromiseIds' },
  promises: {}
}
// Boolean fields of the single-record schemas, written true/false in a CSV cell.
const booleanColumns = new Set(['requiresEvidence'])

/** One CSV record as a record-shaped object: lists split, attributes.x gathered, blanks absent. */
export function csvRecordToObject (record: Record<string, string>, type: RecordType = 'contacts'): Record<string, unknown> {
  const listColumns = listColumnsOf[type]
  const out: Record<string, unknown> = {}
  const attributes: Record<string, unknown> = {}
  for (const [column, raw] of Object.entries(record)) {
    const value = raw.trim()
    if (value === '' || column === '') continue
    if (column.startsWith('attributes.')) attributes[column.slice('attributes.'.length)] = value
    else if (booleanColumns.has(column) && /^(true|false)$/i.test(value)) out[column] = value.toLowerCase() === 'true'
    else if (listColumns[column]) out[listColumns[column]] = [...(out[listColumns[column]] as string[] ?? []), ...value.split(/[;|]/).map((v) => v.trim()).filter(Boolean)]
    else out[column] = value
  }
  if (Object.keys(attributes).length > 0) out.attributes = attributes
  return out
}

const lineBreaks = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0

/**
 * `source` piped into `into`, and its failure with it: a bad gzip body or a client gone mid-upload
 * becomes an error of the loop reading `into` (`.pipe()` alone leaves the error uncaught, which
 * kills the process, or leaves the loop waiting forever). A failure of `into` (a CSV error) leaves
 * the request alone, so its 400 still reaches the client.
 */
export function pipeInto<T extends Duplex> (source: Readable, into: T): T {
  finished(source, (err) => { if (err) into.destroy(err) })
  return source.pipe(into)
}

/**
 * Streams CSV rows with the physical line each starts on (counted from the raw text, so quoted
 * newlines, CRLF and skipped empty lines keep it right); header names pass through `mapping` first.
 */
export async function * csvRows (source: Readable, opts: { delimiter?: string, mapping: Record<string, string>, type?: RecordType }): AsyncGenerator<StagedRow> {
  const parser = pipeInto(source, parse({
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
    yield checked(line, csvRecordToObject(cells, opts.type), raw.length)
  }
}

/** Streams NDJSON rows; a line that is not a JSON object is staged as a failed row. */
export async function * ndjsonRows (source: Readable): AsyncGenerator<StagedRow> {
  let line = 0
  for await (const text of createInterface({ input: pipeInto(source, new PassThrough()), crlfDelay: Infinity })) {
    line++
    if (text.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {}
    if (value === null || typeof value !== 'object' || Array.isArray(value)) yield { line, data: null, bytes: text.length, error: 'The line is not a JSON object' }
    else yield checked(line, value as Record<string, unknown>, text.length)
  }
}
