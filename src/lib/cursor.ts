import { DomainError } from './errors.js'

// Opaque keyset cursors: base64url JSON of the sort key of the last row a page returned.
export type CursorKey = Record<string, string | number>

export function encodeCursor (key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function decodeCursor<K extends CursorKey> (cursor: string, fields: (keyof K)[]): K {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (value && typeof value === 'object' && fields.every((f) => ['string', 'number'].includes(typeof value[f]))) return value as K
  } catch {}
  throw new DomainError('request.invalid_cursor', 'The cursor is not valid; use a nextCursor returned by a list')
}

/** A date read from a cursor: anything else is a bad cursor, not a 500. */
export function cursorDate (value: string): Date {
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw new DomainError('request.invalid_cursor', 'The cursor is not valid; use a nextCursor returned by a list')
  return date
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
  /** Set by directed reads (GraphQL `last`/`before`): a cursor when rows precede this page. */
  previousCursor?: string | null
}

/**
 * A keyset read in either direction (Relay): `after` and `before` bound the range, `backward`
 * reads the end of the range nearest `before` (GraphQL `last`). Repositories fetch limit + 1
 * rows in the read direction; `toDirectedPage` puts them back in list order.
 */
export interface PageRequest { limit: number, after?: string, before?: string, backward?: boolean, ascending?: boolean }

/**
 * The keyset bounds of a read: keys strictly `below` and `above` given ones, read from the low
 * end (`lowFirst`) or the high end. Lists run newest (highest key) first unless `ascending`.
 */
export function keysetRead<K> (q: PageRequest, decode: (cursor: string) => K): { below?: K, above?: K, lowFirst: boolean } {
  const after = q.after ? decode(q.after) : undefined
  const before = q.before ? decode(q.before) : undefined
  return q.ascending
    ? { below: before, above: after, lowFirst: !q.backward }
    : { below: after, above: before, lowFirst: Boolean(q.backward) }
}

export function toDirectedPage<T> (rows: T[], q: PageRequest, keyOf: (row: T) => CursorKey): Page<T> {
  const items = rows.slice(0, q.limit)
  const more = rows.length > q.limit
  if (q.backward) {
    items.reverse()
    return {
      items,
      previousCursor: more ? encodeCursor(keyOf(items[0])) : null,
      nextCursor: q.before ? (items.length > 0 ? encodeCursor(keyOf(items[items.length - 1])) : q.before) : null
    }
  }
  return {
    items,
    previousCursor: q.after ? (items.length > 0 ? encodeCursor(keyOf(items[0])) : q.after) : null,
    nextCursor: more ? encodeCursor(keyOf(items[items.length - 1])) : null
  }
}

/** Given limit+1 rows fetched, returns one page and the cursor after its last row. */
export function toPage<T> (rows: T[], limit: number, keyOf: (row: T) => CursorKey): Page<T> {
  const items = rows.slice(0, limit)
  const next = rows.length > limit ? encodeCursor(keyOf(items[items.length - 1])) : null
  return { items, nextCursor: next }
}
