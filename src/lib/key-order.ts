/**
 * Rows fetched by a list of ids, back in the order of that list (what loaders must return), with
 * null where a row is missing (another workspace, deleted) or where no id was asked (null key).
 */
export function inKeyOrder<T extends { id: string }> (ids: ReadonlyArray<string | null>, rows: ReadonlyArray<T | null | undefined>): Array<T | null> {
  const byId = new Map<string, T>()
  for (const row of rows) if (row) byId.set(row.id, row)
  return ids.map((id) => (id === null ? null : byId.get(id) ?? null))
}
