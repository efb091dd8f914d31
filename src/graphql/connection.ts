import { encodeCursor, type Page } from '../lib/cursor.js'

/** A service page as a Relay connection (forward pagination on the same keyset cursors as REST). */
export function toConnection<T extends { id: string }> (page: Page<T>, hadCursor: boolean) {
  return {
    edges: page.items.map((node) => ({ cursor: encodeCursor({ id: node.id }), node })),
    nodes: page.items,
    pageInfo: {
      hasNextPage: page.nextCursor !== null,
      hasPreviousPage: hadCursor,
      startCursor: page.items.length > 0 ? encodeCursor({ id: page.items[0].id }) : null,
      endCursor: page.items.length > 0 ? encodeCursor({ id: page.items[page.items.length - 1].id }) : null
    }
  }
}
