import { encodeCursor, type CursorKey, type Page } from '../lib/cursor.js'

/** A service page as a Relay connection (forward pagination on the same keyset cursors as REST). */
export function toConnection<T extends { id: string }> (page: Page<T>, hadCursor: boolean, keyOf: (node: T) => CursorKey = (n) => ({ id: n.id })) {
  const cursor = (node: T) => encodeCursor(keyOf(node))
  return {
    edges: page.items.map((node) => ({ cursor: cursor(node), node })),
    nodes: page.items,
    pageInfo: {
      hasNextPage: page.nextCursor !== null,
      hasPreviousPage: hadCursor,
      startCursor: page.items.length > 0 ? cursor(page.items[0]) : null,
      endCursor: page.items.length > 0 ? cursor(page.items[page.items.length - 1]) : null
    }
  }
}
