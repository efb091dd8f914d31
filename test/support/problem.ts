import { errorCatalog, type ErrorCode } from '../../src/lib/errors.js'
import type { TapTest } from './tap.js'

type Asserts = TapTest
interface ResponseLike { statusCode: number, headers: Record<string, unknown>, body: string, data: any }
export interface ExpectedFieldError { pointer: string | RegExp, code?: string }

/** Asserts an RFC 9457 problem+json response with this status and code; returns its body. */
export function assertProblem (t: Asserts, res: ResponseLike, status: number, code: ErrorCode, label: string = code): any {
  t.equal(res.statusCode, status, `${label}: status ${status} (${res.body.slice(0, 300)})`)
  t.equal(String(res.headers['content-type']).split(';')[0], 'application/problem+json', `${label}: problem+json`)
  const p = res.data ?? {}
  t.equal(p.code, code, `${label}: code`)
  t.equal(p.type, `/problems/${code}`, `${label}: type`)
  t.equal(p.title, errorCatalog[code].title, `${label}: title from the catalog`)
  t.equal(p.status, status, `${label}: status in the body`)
  t.type(p.detail, 'string', `${label}: detail`)
  return p
}

const matches = (pointer: string, want: string | RegExp) => typeof want === 'string' ? pointer === want : want.test(pointer)

/** Asserts field errors: every expected pointer is listed, each entry has a pointer and a message. */
export function assertFieldErrors (t: Asserts, errors: unknown, expected: ExpectedFieldError[], label: string): void {
  const list = Array.isArray(errors) ? errors as Array<{ pointer: unknown, message: unknown, code?: unknown }> : []
  t.ok(list.length >= expected.length, `${label}: lists ${expected.length} field error(s) (${JSON.stringify(errors)})`)
  for (const e of list) {
    t.ok(typeof e.pointer === 'string' && (e.pointer === '' || e.pointer.startsWith('/')), `${label}: ${String(e.pointer)} is a JSON pointer`)
    t.ok(typeof e.message === 'string' && e.message.length > 0, `${label}: ${String(e.pointer)} has a message`)
  }
  for (const want of expected) {
    const found = list.find((e) => typeof e.pointer === 'string' && matches(e.pointer, want.pointer))
    t.ok(found, `${label}: names ${String(want.pointer)} (${JSON.stringify(errors)})`)
    if (found && want.code) t.equal(found.code, want.code, `${label}: ${String(want.pointer)} code`)
  }
}

/** A 400 validation.failed problem naming these fields. */
export function assertValidation (t: Asserts, res: ResponseLike, expected: ExpectedFieldError[], label: string): void {
  const p = assertProblem(t, res, 400, 'validation.failed', label)
  assertFieldErrors(t, p.errors, expected, label)
}

/** Text that must never reach a client in a 5xx: SQL, driver names, stack frames, file paths. */
export const internalsPattern = /\b(select|insert|update|delete|from|where|relation|sql|postgres|pglite|drizzle|stack|ECONN\w*|CONNECTION_\w+)\b|\bat\s+\S+\s+\(|node_modules|\.(ts|js):\d+|Error:/i
