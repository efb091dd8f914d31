import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Constant-time comparison that also hides the length of the expected value: both sides are
 * hashed first, so timingSafeEqual always compares 32 bytes and never throws on length mismatch.
 */
export function safeEqual (a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}

export function hmac (alg: 'sha1' | 'sha256', key: string | Buffer, data: string | Buffer): Buffer {
  return createHmac(alg, key).update(data).digest()
}

/** True when the provider timestamp (unix seconds) is within `windowSeconds` of now, either side. */
export function withinWindow (timestampSeconds: string | undefined, now: Date, windowSeconds = 300): boolean {
  if (timestampSeconds === undefined || !/^\d{1,12}$/.test(timestampSeconds)) return false
  return Math.abs(now.getTime() / 1000 - Number(timestampSeconds)) <= windowSeconds
}

/** Short stable hex digest, for ids derived from idempotency keys. */
export function digest (value: string, length = 32): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length)
}
