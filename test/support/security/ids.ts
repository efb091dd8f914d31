import { randomBytes } from 'node:crypto'

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'

/** An id shaped like `real` (same prefix, same length) that names nothing. */
export function ghostId (real: string): string {
  const cut = real.lastIndexOf('_')
  const prefix = cut >= 0 ? real.slice(0, cut + 1) : ''
  const length = Math.max(8, real.length - prefix.length)
  const bytes = randomBytes(length)
  return prefix + '0' + Array.from(bytes.subarray(1), (b) => alphabet[b % 32]).join('')
}
