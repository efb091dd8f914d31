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

export interface Page<T> { items: T[], nextCursor: string | null }

/** Given limit+1 rows fetched, returns one page and the cursor after its last row. */
export function toPage<T> (rows: T[], limit: number, keyOf: (row: T) => CursorKey): Page<T> {
  const items = rows.slice(0, limit)
  const next = rows.length > limit ? encodeCursor(keyOf(items[items.length - 1])) : null
  return { items, nextCursor: next }
}
