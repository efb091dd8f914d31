/**
 * Rows fetched by a list of ids, back in the order of that list (what loaders must return), with
 * null where a row is missing (another workspace, deleted) or where no id was asked (null key).
 */
export function inKeyOrder<T extends { id: string }> (ids: ReadonlyArray<string | null>, rows: ReadonlyArray<T | null | undefined>): Array<T | null> {
  const byId = new Map<string, T>()
  for (const row of rows) if (row) byId.set(row.id, row)
  return ids.map((id) => (id === null ? null : byId.get(id) ?? null))
}

/**
 * Rows fetched for a list of keys, grouped per key in the order of that list (what a loader of a
 * one-to-many field returns), each group in the rows' own order; a row may belong to several keys
 * (a merge is both contacts'). One pass over the rows.
 */
export function groupedInKeyOrder<T> (keys: readonly string[], rows: readonly T[], keysOf: (row: T) => string | ReadonlyArray<string | null>): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]))
  for (const row of rows) {
    const of = keysOf(row)
    for (const key of typeof of === 'string' ? [of] : new Set(of)) if (key !== null) groups.get(key)?.push(row)
  }
  return keys.map((k) => groups.get(k)!)
}
