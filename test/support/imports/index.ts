import { gzipSync } from 'node:zlib'
import type { TestApp } from '../../helper.js'

type Rest = TestApp['rest']
type App = TestApp['app']

export interface UploadOptions {
  /** Query parameters (type defaults to contacts). */
  query?: Record<string, string>
  token?: string
  headers?: Record<string, string>
  gzip?: boolean
  contentType?: string
}

/** CSV text from rows of cells, quoting only when needed (commas, quotes, newlines). */
export function csv (rows: Array<Array<string | number>>, eol = '\n'): string {
  const cell = (v: string | number) => {
    const s = String(v)
    return /[",;\r\n|]/.test(s) && s !== '' ? `"${s.replace(/"/g, '""')}"` : s
  }
  return rows.map((r) => r.map(cell).join(',')).join(eol) + eol
}

/** NDJSON text from values (strings are written as they are: a way to write a bad line). */
export function ndjson (lines: unknown[]): string {
  return lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n'
}

/** POST /v1/imports with a raw body; the response of the upload (202 with the job, or a problem). */
export async function upload (rest: Rest, body: string | Buffer, o: UploadOptions = {}) {
  const query = new URLSearchParams({ type: 'contacts', ...o.query })
  const format = o.query?.format ?? 'csv'
  const headers: Record<string, string> = {
    'content-type': o.contentType ?? (format === 'ndjson' ? 'application/x-ndjson' : 'text/csv'),
    ...(o.gzip ? { 'content-encoding': 'gzip' } : {}),
    ...o.headers
  }
  const payload = o.gzip ? gzipSync(Buffer.from(body)) : Buffer.from(body)
  return rest('POST', `/v1/imports?${query}`, { payload, headers, token: o.token })
}

/** GET /v1/imports/{id} (status 200 expected by callers that read `.data`). */
export async function getJob (rest: Rest, id: string, token?: string) {
  return rest('GET', `/v1/imports/${id}`, { token })
}

/**
 * Uploads, runs the import worker until idle, and returns the finished job
 * (throws with the response when the upload is refused).
 */
export async function runImport (app: App, rest: Rest, body: string | Buffer, o: UploadOptions = {}) {
  const res = await upload(rest, body, o)
  if (res.statusCode !== 202) throw new Error(`upload refused: ${res.statusCode} ${res.body}`)
  await app.jobs.imports.drain()
  const job = await getJob(rest, res.data.id, o.token)
  return { upload: res, job: job.data }
}

/** Failed rows of an import as JSON items. */
export async function importErrors (rest: Rest, id: string, token?: string): Promise<Array<{ line: number, field: string, reason: string }>> {
  const res = await rest('GET', `/v1/imports/${id}/errors`, { token })
  if (res.statusCode !== 200) throw new Error(`errors report: ${res.statusCode} ${res.body}`)
  return res.data.data
}

export interface ContactLike {
  id: string, displayName: string, givenName: string | null, familyName: string | null, emails: Array<{ address: string, primary: boolean }>,
  phones: string[], company: string | null, title: string | null, tags: string[], attributes: Record<string, unknown>, externalId: string | null, version: number
}

/** Every live contact of the token's workspace, through the paginated list (100 a page). */
export async function allContacts (rest: Rest, token?: string): Promise<ContactLike[]> {
  const out: ContactLike[] = []
  let after: string | null = null
  for (let page = 0; page < 10_000; page++) {
    const res = await rest('GET', `/v1/contacts?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`, { token })
    if (res.statusCode !== 200) throw new Error(`list contacts: ${res.statusCode} ${res.body}`)
    out.push(...res.data.data)
    after = res.data.nextCursor
    if (!after) return out
  }
  throw new Error('too many pages')
}

/** The one contact with this externalId / e-mail (undefined when none), via the list filters. */
export async function contactBy (rest: Rest, filter: { externalId?: string, email?: string }, token?: string): Promise<ContactLike | undefined> {
  const q = new URLSearchParams(filter as Record<string, string>)
  const res = await rest('GET', `/v1/contacts?${q}`, { token })
  if (res.statusCode !== 200) throw new Error(`list contacts: ${res.statusCode} ${res.body}`)
  if (res.data.data.length > 1) throw new Error(`more than one contact for ${q}: ${res.body}`)
  return res.data.data[0]
}

/** `rest` acting for one token unless a call names another: one workspace per subtest, one app per file. */
export function asToken (rest: Rest, token: string): Rest {
  return (method, url, o = {}) => rest(method, url, { ...o, token: o.token === undefined ? token : o.token })
}
