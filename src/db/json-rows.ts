import { getTableColumns, is, sql, SQL } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'

/**
 * Many rows as one JSON parameter (jsonb_to_recordset), for multi-row writes whose statement text
 * must not depend on the number of rows: every statement is a named prepared statement that each
 * connection keeps (src/db/prepared.ts), so a VALUES list of n rows would leave one per batch size,
 * and 5,000 rows of 16 columns would pass PostgreSQL's 65,535 parameters.
 * `given`: the table's properties the rows carry (the same ones for every row).
 */
export function jsonRows<T extends PgTable> (table: T, given: ReadonlyArray<keyof T['$inferInsert'] & string>, rows: ReadonlyArray<Partial<T['$inferInsert']>>) {
  const columns = getTableColumns(table) as Record<string, PgColumn>
  const json = JSON.stringify(rows.map((row) => Object.fromEntries(given.map((key) => [columns[key].name, (row as Record<string, unknown>)[key] ?? null]))))
  const definition = sql.raw(given.map((key) => `"${columns[key].name}" ${columns[key].getSQLType()}`).join(', '))
  /** A given property of the row being read, as `r."column"`. */
  const field = (key: keyof T['$inferInsert'] & string) => sql.raw(`r."${columns[key].name}"`)
  return {
    field,
    from: sql`jsonb_to_recordset(${json}::jsonb) as r(${definition})`,
    /** The given columns by name, for `insert into t (columns) select fields from …` (the others take their defaults). */
    columns: sql.raw(given.map((key) => `"${columns[key].name}"`).join(', ')),
    fields: sql.join(given.map(field), sql`, `),
    /**
     * Every insertable column in table order (what drizzle's insert().select() writes): given ones
     * from the row (or `override`), the others their default as the table declares it.
     */
    allFields (override: Partial<Record<keyof T['$inferInsert'] & string, SQL>> = {}) {
      return sql.join(Object.entries(columns).filter(([, c]) => !(c as unknown as { shouldDisableInsert: () => boolean }).shouldDisableInsert()).map(([key, c]) => {
        const o = (override as Record<string, SQL | undefined>)[key]
        if (o) return o
        if ((given as readonly string[]).includes(key)) return field(key as keyof T['$inferInsert'] & string)
        if (is(c.default, SQL)) return c.default
        if (c.default !== undefined) return sql`${c.default}::${sql.raw(c.getSQLType())}`
        if (c.hasDefault) throw new Error(`jsonRows: ${c.name} has a default that cannot be selected; give it`)
        return sql`null::${sql.raw(c.getSQLType())}`
      }), sql`, `)
    }
  }
}
