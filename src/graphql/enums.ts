// GraphQL enums are UPPER_CASE by convention; REST and the database use lower case.
type EnumOut<T> = T extends string ? Uppercase<T> : T
export const enumOut = <T extends string | null | undefined>(value: T): EnumOut<T> =>
  (value == null ? value : value.toUpperCase()) as EnumOut<T>
export const enumIn = <T extends string | null | undefined>(value: T): T => (typeof value === 'string' ? value.toLowerCase() : value) as T

/** Lower-cases the named enum fields of an input object, leaving the rest as given. */
export function enumsIn<T extends Record<string, unknown>> (input: T | null | undefined, fields: string[]): T {
  const out: Record<string, unknown> = { ...(input ?? {}) }
  for (const f of fields) if (typeof out[f] === 'string') out[f] = (out[f] as string).toLowerCase()
  return out as T
}

/** Drops nulls: GraphQL sends null for absent optional arguments, zod schemas expect absence. */
export function withoutNulls (value: Record<string, unknown> | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== null))
}
