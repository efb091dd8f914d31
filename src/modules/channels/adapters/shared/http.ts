import type { AdapterContext } from '../channel-adapter.js'
import { AdapterSendError } from '../channel-adapter.js'

export interface ProviderResponse {
  status: number
  headers: Headers
  /** Parsed JSON body, or undefined when the body is not JSON. Read defensively. */
  json: any
  text: string
}

const TIMEOUT_MS = 15_000

/**
 * One HTTP call to a provider. Network errors and timeouts become retryable AdapterSendErrors:
 * the request may or may not have landed, which is what the idempotency key is for.
 * Error messages never include the URL, because some providers put the token in it (Telegram).
 */
export async function callProvider (ctx: AdapterContext, label: string, url: string, init: RequestInit): Promise<ProviderResponse> {
  const doFetch = ctx.fetch ?? globalThis.fetch
  let res: Response
  try {
    res = await doFetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (err) {
    // undici says only "fetch failed"; the cause's code (ECONNREFUSED, ENOTFOUND...) is the useful part.
    const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code
    const reason = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : typeof cause === 'string' ? cause : String((err as Error)?.message ?? err)
    throw new AdapterSendError(`${label}: request failed (${reason})`, { retryable: true })
  }
  const text = await res.text().catch(() => '')
  let json: any
  try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
  return { status: res.status, headers: res.headers, json, text }
}

/** 5xx, 429 and 408 are worth retrying; any other 4xx will fail the same way again. */
export function isRetryableStatus (status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}

/** Retry-After as seconds (delta-seconds or HTTP-date). */
export function retryAfter (headers: Headers, now: Date): number | undefined {
  const value = headers.get('retry-after')
  if (value === null) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000))
}

/** Throw the standard error for a non-2xx response; providers pass their own message/code/retryability. */
export function failHttp (
  label: string,
  res: ProviderResponse,
  now: Date,
  detail: { message?: string, code?: string | number, retryable?: boolean, retryAfterSeconds?: number } = {}
): never {
  const message = detail.message ?? res.text.slice(0, 300)
  throw new AdapterSendError(`${label}: HTTP ${res.status}${message ? ` ${message}` : ''}`, {
    retryable: detail.retryable ?? isRetryableStatus(res.status),
    status: res.status,
    retryAfterSeconds: detail.retryAfterSeconds ?? retryAfter(res.headers, now),
    providerCode: detail.code === undefined ? undefined : String(detail.code)
  })
}

export function ok (res: ProviderResponse): boolean {
  return res.status >= 200 && res.status < 300
}
