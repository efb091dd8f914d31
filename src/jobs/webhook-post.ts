import http from 'node:http'
import https from 'node:https'
import { UrlRefusedError, type UrlPolicy } from '../modules/webhooks/url-policy.js'

/** What one POST came to: an answer (any status), or no answer and why. */
export type Answer =
  | { statusCode: number, retryAfterMs?: number }
  | { error: string, kind: 'timeout' | 'network' | 'refused' }

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter (value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * POSTs with node:http. The guarded lookup checks every address the connection may use (DNS
 * rebinding); redirects are not followed (a 3xx is a failed attempt), so a receiver cannot
 * bounce the request to a private address either.
 */
export async function postWebhook (policy: UrlPolicy, rawUrl: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Answer> {
  let url: URL
  try {
    url = policy.parse(rawUrl).url
  } catch (err) {
    return { error: `refused: ${(err as Error).message}`, kind: 'refused' }
  }
  return new Promise<Answer>((resolve) => {
    const client = url.protocol === 'https:' ? https : http
    const req = client.request(url, {
      method: 'POST',
      agent: false,
      lookup: policy.guardedLookup as never,
      signal: AbortSignal.timeout(timeoutMs),
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Rapport-Webhooks/1.0' }
    }, (res) => {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'])
      resolve({ statusCode: res.statusCode ?? 0, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
      // The answer's body is not needed: drop it rather than let a receiver stream forever.
      res.destroy()
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'TimeoutError' || err.name === 'AbortError') resolve({ error: `no answer within ${timeoutMs} ms`, kind: 'timeout' })
      // The guarded lookup refuses a private address by failing the connection's DNS lookup.
      else resolve({ error: err.message, kind: err instanceof UrlRefusedError ? 'refused' : 'network' })
    })
    req.end(body)
  })
}
