import { sql, type SQL } from 'drizzle-orm'

// Lists of keys as single parameters, and the rows of raw statements on either driver.

/**
 * A list of texts as one parameter (an array literal cast to text[]), however long: a batch of
 * thousands of keys stays one short statement to build, send and plan, on both drivers. A plain
 * parameter, not a subquery: under row-level security only such quals reach the index.
 */
export const textList = (values: string[]): SQL => sql`${`{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`}::text[]`
/**
 * One index probe per key: `inner` is a subquery naming the key as `k.v`, run once per key of the
 * list. Not `= any(list)` (a generic plan tests every row against thousands of keys) nor a
 * semi-join on `unnest(list)`: while a bulk load runs the statistics say the table is tiny, the
 * planner hashes the list and scans the whole workspace (a lookup grew from 12 to 375 ms over an
 * import of 100,000 contacts). A LATERAL subquery with LIMIT cannot be flattened into a join, so
 * each key is one probe of a unique index whatever the statistics say. (Every caller's key is
 * unique in its index: LIMIT 1 drops nothing.)
 */
export const perKey = (values: string[], inner: SQL) => sql`from unnest(${textList(values)}) as k(v) cross join lateral (${inner} limit 1) as c`

/** Rows of tx.execute on either driver (postgres.js answers an array, PGlite { rows }). */
export const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
