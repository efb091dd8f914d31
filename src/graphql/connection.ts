import { decodeCursor, encodeCursor, toDirectedPage, type CursorKey, type Page, type PageRequest } from '../lib/cursor.js'
import { validationError } from '../lib/errors.js'

export const DEFAULT_PAGE_SIZE = 25
export const MAX_PAGE_SIZE = 100

export interface PageArgs { first?: number | null, last?: number | null, after?: string | null, before?: string | null }

/**
 * Relay arguments as a keyset read: `first` reads forward from `after`, `last` backward from
 * `before`. Like GitHub, one of them sets the page size (1..100); with neither, a first page of
 * 25, so that a quick query stays quick to write. Both at once is refused: it has no clear meaning.
 */
export function pageRequest (args: PageArgs, defaultSize = DEFAULT_PAGE_SIZE): PageRequest {
  const { first, last, after, before } = args
  if (first != null && last != null) {
    throw validationError([{ pointer: '/last', message: 'Pass first or last, not both', code: 'first_and_last' }])
  }
  const [name, size] = last != null ? ['last', last] : ['first', first ?? defaultSize]
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw validationError([{ pointer: `/${name}`, message: `${name} must be between 1 and ${MAX_PAGE_SIZE}`, code: size < 1 ? 'too_small' : 'too_big' }])
  }
  for (const [field, cursor] of [['after', after], ['before', before]] as const) {
    if (cursor != null && (cursor.length === 0 || cursor.length > 500)) {
      throw validationError([{ pointer: `/${field}`, message: 'Not a cursor', code: 'invalid_cursor' }])
    }
  }
  return { limit: size, after: after ?? undefined, before: before ?? undefined, backward: last != null }
}

export interface Connection<T = unknown> {
  edges: Array<{ cursor: string, node: T }>
  nodes: T[]
  pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }
  /** Counted only when the query selects `totalCount` (see connectionResolvers). */
  totalCount: () => Promise<number>
}

/** A service page as a Relay connection, on the same keyset cursors as REST. */
export function toConnection<T extends { id: string }> (page: Page<T>, totalCount: () => Promise<number>, keyOf?: (node: T) => CursorKey): Connection<T>
export function toConnection<T> (page: Page<T>, totalCount: () => Promise<number>, keyOf: (node: T) => CursorKey): Connection<T>
export function toConnection<T> (page: Page<T>, totalCount: () => Promise<number>, keyOf: (node: T) => CursorKey = (n) => ({ id: (n as { id: string }).id })): Connection<T> {
  const cursor = (node: T) => encodeCursor(keyOf(node))
  return {
    // Built only when the query selects them: most ask for nodes, and cursors are not free (a
    // nested list under a page of 50 would encode a hundred the query never asked for).
    get edges () { return page.items.map((node) => ({ cursor: cursor(node), node })) },
    nodes: page.items,
    get pageInfo () {
      return {
        hasNextPage: page.nextCursor !== null,
        hasPreviousPage: Boolean(page.previousCursor),
        startCursor: page.items.length > 0 ? cursor(page.items[0]) : null,
        endCursor: page.items.length > 0 ? cursor(page.items[page.items.length - 1]) : null
      }
    },
    totalCount
  }
}

/** `totalCount` of every connection type: a COUNT query runs only when the field is selected. */
export function connectionResolvers (typeNames: string[]) {
  return Object.fromEntries(typeNames.map((name) => [name, { totalCount: (c: Connection<unknown>) => c.totalCount() }]))
}

/** `orderBy: { direction: ASC }` reads the keyset from its low end; the default is newest first. */
export function orderIn (orderBy: { direction?: string | null } | null | undefined): { ascending: boolean } {
  return { ascending: orderBy?.direction === 'ASC' }
}

/** A page of a list already in memory (a contact's identities), with the same cursors and rules. */
export function pageOfList<T extends { id: string }> (list: T[], q: PageRequest): Page<T> {
  const indexOf = (cursor: string) => list.findIndex((x) => x.id === decodeCursor<{ id: string }>(cursor, ['id']).id)
  const start = q.after ? indexOf(q.after) + 1 : 0
  const end = q.before ? indexOf(q.before) : -1
  const range = list.slice(start, end >= 0 ? end : list.length)
  const rows = q.backward ? range.reverse() : range
  return toDirectedPage(rows.slice(0, q.limit + 1), q, (x) => ({ id: x.id }))
}

/**
 * totalCount of many sibling connections (one per parent in a loader batch) from one grouped
 * COUNT, run once, when the first of them is selected.
 */
export function batchedCounts (contactIds: string[], countAll: (ids: string[]) => Promise<number[]>): (contactId: string) => Promise<number> {
  const unique = [...new Set(contactIds)]
  let counts: Promise<number[]> | undefined
  return async (contactId) => {
    counts ??= countAll(unique)
    return (await counts)[unique.indexOf(contactId)] ?? 0
  }
}
