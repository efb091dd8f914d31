import type { z } from 'zod'
import { validationError, type FieldError } from './errors.js'

/** JSON pointer (RFC 6901) of a path, under an optional root such as "/body". */
export function toPointer (path: PropertyKey[], root = ''): string {
  return root + path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('')
}

/** Flattens zod issues into one error per field; unknown keys get one entry each. */
export function zodIssuesToFieldErrors (issues: z.core.$ZodIssue[], root = ''): FieldError[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ pointer: toPointer([...issue.path, key], root), message: 'Unknown field', code: 'unknown_field' }))
    }
    return [{ pointer: toPointer(issue.path, root), message: issue.message, code: issue.code }]
  })
}

/** Parses input with the same schema REST declares; GraphQL resolvers call this. */
export function parseInput<S extends z.ZodType> (schema: S, input: unknown, aliases: Record<string, string> = {}): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) {
    // A transport may name a field differently (GraphQL `first` is REST `limit`): report its name.
    const errors = zodIssuesToFieldErrors(result.error.issues).map((e) => {
      const [, head, ...rest] = e.pointer.split('/')
      return aliases[head] ? { ...e, pointer: ['', aliases[head], ...rest].join('/') } : e
    })
    throw validationError(errors)
  }
  return result.data
}
